"""What the app knows about each record type, in one table."""
from dataclasses import dataclass

from crm.models import Contact, Deal, Lead, Organization


@dataclass(frozen=True)
class RecordType:
    name: str  # "lead": used in URLs, history events and custom fields
    model: type
    label: str
    plural: str
    title_column: str
    search_columns: tuple[str, ...]
    stage_column: str | None  # the pipeline position: a deal's stage, a lead's status
    sortable: tuple[str, ...]

    @property
    def endpoint(self) -> str:
        return f"{self.plural}.show"


LEAD = RecordType(
    "lead", Lead, "Lead", "leads", "title",
    ("title", "person_name", "company_name", "email", "phone"), "status_id",
    ("title", "person_name", "company_name", "city", "value", "created_at", "updated_at"),
)
DEAL = RecordType(
    "deal", Deal, "Deal", "deals", "title", ("title", "email", "phone"), "stage_id",
    ("title", "value", "city", "expected_close", "created_at", "updated_at"),
)
CONTACT = RecordType(
    "contact", Contact, "Contact", "contacts", "name", ("name", "email", "phone", "job_title"),
    None, ("name", "email", "city", "created_at", "updated_at"),
)
ORGANIZATION = RecordType(
    "organization", Organization, "Organization", "organizations", "name",
    ("name", "email", "phone", "website"), None, ("name", "city", "created_at", "updated_at"),
)

RECORD_TYPES: dict[str, RecordType] = {t.name: t for t in (LEAD, DEAL, CONTACT, ORGANIZATION)}


def record_type(name: str) -> RecordType:
    try:
        return RECORD_TYPES[name]
    except KeyError:
        raise LookupError(f"Unknown record type {name!r}") from None


def record_type_of(obj) -> RecordType:
    return next(t for t in RECORD_TYPES.values() if isinstance(obj, t.model))
