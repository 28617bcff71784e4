"""Child rows and links that follow merged records to the survivor, remembered so that Undo merge
can move each one back (MergeMove: one row per moved row, written by INSERT ... SELECT)."""
from sqlalchemy import String, cast, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.models import Activity, Contact, Deal, EmailMessage, HistoryEvent, Lead, MergeMove, Note, User
from crm.models.mixins import utcnow
from crm.services.record_types import RECORD_TYPES, RecordType

CHILDREN = (Activity, Note, EmailMessage)
# Records that point at a record of this type; they follow it to the survivor.
LINKS: dict[str, tuple[tuple[type, str], ...]] = {
    "lead": (),
    "deal": ((Lead, "converted_deal_id"), (Lead, "origin_deal_id")),
    "contact": ((Deal, "contact_id"), (Lead, "contact_id"), (Lead, "converted_contact_id")),
    "organization": ((Deal, "organization_id"), (Contact, "organization_id"),
                     (Lead, "organization_id"), (Lead, "converted_organization_id")),
}


def targets(rtype: RecordType) -> list[tuple[type, str]]:
    """Every (model, column) that points at a record of this type."""
    return [(model, f"{rtype.name}_id") for model in CHILDREN] + list(LINKS[rtype.name])


def move_children(session: Session, rtype: RecordType, survivor, others: list, actor: User,
                  batch_id: str) -> dict[str, int]:
    """Re-point every child row and link of the others to the survivor, set-based, remembering
    each moved row for undo. Linked records (a deal of a merged contact) get a history event."""
    other_ids = [o.id for o in others]
    moved = {}
    for model, column_name in targets(rtype):
        column = getattr(model, column_name)
        target = f"{model.__tablename__}.{column_name}"
        session.execute(insert(MergeMove).from_select(
            ["batch_id", "target", "row_id", "old_value"],
            select(literal(batch_id), literal(target), model.id, column).where(column.in_(other_ids))))
        if (model, column_name) in LINKS[rtype.name]:
            _log_link_changes(session, model, column_name, other_ids, survivor.id, actor, batch_id)
        result = session.execute(update(model).where(column.in_(other_ids))
                                 .values({column_name: survivor.id})
                                 .execution_options(synchronize_session=False))
        moved[target] = result.rowcount
    return moved


def _log_link_changes(session: Session, model, column_name: str, from_ids: list[int], to_id: int,
                      actor: User, batch_id: str) -> None:
    column = getattr(model, column_name)
    linked_type = next(t for t in RECORD_TYPES.values() if t.model is model)
    session.execute(insert(HistoryEvent).from_select(
        ["record_type", "record_id", "actor_id", "kind", "field", "old", "new", "batch_id", "at"],
        select(literal(linked_type.name), model.id, literal(actor.id), literal("update"),
               literal(column_name), cast(column, String), literal(str(to_id)), literal(batch_id),
               literal(utcnow())).where(column.in_(from_ids))))


def move_children_back(session: Session, rtype: RecordType, survivor, batch_id: str) -> dict[str, int]:
    """Rows still on the survivor go back to the record they came from (one UPDATE per target)."""
    moved = {}
    for model, column_name in targets(rtype):
        column = getattr(model, column_name)
        target = f"{model.__tablename__}.{column_name}"
        rows = select(MergeMove.row_id).where(MergeMove.batch_id == batch_id, MergeMove.target == target)
        old = (select(MergeMove.old_value).where(MergeMove.batch_id == batch_id, MergeMove.target == target,
                                                 MergeMove.row_id == model.id).scalar_subquery())
        result = session.execute(update(model).where(model.id.in_(rows), column == survivor.id)
                                 .values({column_name: old}).execution_options(synchronize_session=False))
        moved[target] = result.rowcount
    session.expire_all()
    return moved
