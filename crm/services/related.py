"""What hangs off a customer record: an organization's contacts and deals, a contact's deals,
limited to what the viewer may see."""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import User
from crm.services.permissions import visible_clause
from crm.services.record_types import CONTACT, DEAL, RecordType

SHOWN = 20  # rows listed per section; the count says how many there are

# record type -> the related types listed on its page, each with the column that points back to it
RELATED: dict[str, tuple[tuple[RecordType, str], ...]] = {
    "organization": ((CONTACT, "organization_id"), (DEAL, "organization_id")),
    "contact": ((DEAL, "contact_id"),),
}


@dataclass
class Related:
    rtype: RecordType
    count: int
    records: list  # the first SHOWN, newest first


def related_records(session: Session, rtype: RecordType, record_id: int, viewer: User) -> list[Related]:
    """One section per related type: the visible records out of the trash that point at this one."""
    sections = []
    for other, column in RELATED.get(rtype.name, ()):
        model = other.model
        where = (getattr(model, column) == record_id, model.deleted_at.is_(None), visible_clause(model, viewer))
        count = session.scalar(select(func.count()).select_from(model).where(*where))
        records = session.scalars(select(model).where(*where).order_by(model.id.desc()).limit(SHOWN)).all()
        sections.append(Related(other, count, list(records)))
    return sections
