"""All models, importable from one place: `from crm.models import Lead`."""
from crm.models.users import Role, Setting, Team, User
from crm.models.records import (
    Contact,
    Deal,
    Lead,
    LeadStatus,
    Organization,
    Pipeline,
    Stage,
    Territory,
)
from crm.models.engagement import Activity, EmailMessage, Note
from crm.models.history import Batch, HistoryEvent, UndoneRecord
from crm.models.custom_fields import CustomField
from crm.models.saved_lists import SavedList
from crm.models.jobs import Job, Notification
from crm.models.pools import CaptureForm, ImportJob, ImportMapping, Pool, PoolMember, PoolTurn
from crm.models.merges import MergeLink, MergeMove
from crm.models.api import ApiCall, ApiClient, ApiToken, IdempotencyKey, WebhookDelivery, WebhookSubscription
from crm.models.lead_process import AssignmentRule, ScoringRule
from crm.models import map as _map_indexes  # noqa: F401  (indexes for the map queries)

__all__ = [
    "Activity", "ApiCall", "AssignmentRule", "ApiClient", "ApiToken", "IdempotencyKey", "WebhookDelivery",
    "WebhookSubscription", "Batch", "Contact", "CustomField", "Deal", "EmailMessage", "HistoryEvent",
    "Job", "Lead", "LeadStatus", "MergeLink", "MergeMove", "Note", "Notification", "Organization", "Pipeline", "Role", "SavedList", "ScoringRule", "Setting",
    "Stage", "Team", "Territory", "UndoneRecord", "User",
]
