"""What both conversions share: the records that move along, and the double-click refusal."""
from crm.models import Activity, EmailMessage, Note
from crm.services import DomainError

ATTACHED = (Note, EmailMessage, Activity)  # what follows a record into what it became


class AlreadyConverted(DomainError):
    """The source was converted by an earlier request (double click, second tab)."""
