"""My day: a rep's open activities due today or overdue, and their best leads with nothing planned.

One-tap actions run through crm/services/engagement.py, so history, scores and permissions follow.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import Activity, Lead, LeadStatus, User
from crm.services import engagement
from crm.services.permissions import visible_clause
from crm.services.record_types import LEAD, RECORD_TYPES

TOP_LEADS = 10
MAX_ACTIVITIES = 100


def due_activities(user: User, now: datetime) -> Select:
    """The user's open activities due before tomorrow (overdue first), on records they may see."""
    tomorrow = datetime.combine(now.date() + timedelta(days=1), time.min)
    return (select(Activity).where(Activity.owner_id == user.id, ~Activity.done, Activity.due_at < tomorrow)
            .order_by(Activity.due_at, Activity.id).limit(MAX_ACTIVITIES))


def leads_to_plan(user: User) -> Select:
    """The user's open leads without a planned activity, best score first."""
    planned = exists().where(Activity.lead_id == Lead.id, ~Activity.done)
    return (select(Lead).join(LeadStatus, LeadStatus.id == Lead.status_id)
            .where(Lead.owner_id == user.id, Lead.deleted_at.is_(None), Lead.converted_at.is_(None),
                   LeadStatus.kind == "open", ~planned, visible_clause(Lead, user))
            .order_by(Lead.score.desc(), Lead.id.desc()).limit(TOP_LEADS))


def record_of(session: Session, activity: Activity):
    """(record type, record) an activity is attached to."""
    for name in _RELATIONS:
        if getattr(activity, f"{name}_id"):
            return RECORD_TYPES[name], session.get(RECORD_TYPES[name].model, getattr(activity, f"{name}_id"))
    return None, None


def log_call(session: Session, lead: Lead, actor: User) -> Activity:
    """A call made just now: planned and done in one tap."""
    call = engagement.plan_activity(session, LEAD, lead, "call", _("Call"), "", actor)
    session.flush()
    engagement.complete_activity(session, LEAD, lead, call, actor)
    return call


_RELATIONS = ("lead", "deal", "contact", "organization")
