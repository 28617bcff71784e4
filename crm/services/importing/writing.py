"""Writing a chunk of classified rows: new records inserted set-based with their history, matches updated."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import HistoryEvent, User
from crm.models.mixins import utcnow
from crm.services import scoring
from crm.services.bulk import Change
from crm.services.wording import count_phrase
from crm.services.editing import new_record_defaults, update_record
from crm.services.importing.inserting import insert_rows, reserve_ids
from crm.services.owners import resolve_owners
from crm.services.record_types import RecordType
from crm.services.territories import with_territories


def write(session: Session, rtype: RecordType, actor: User, batch_id: str, default_owner: str,
          outcomes: list) -> None:
    """Insert the chunk's new records, update the matched ones; owners (pool turns too) in row order."""
    owned = [o for o in outcomes if o.action == "create" or (o.action == "update" and o.owner)]
    default = default_owner or f"user:{actor.id}"
    owner_of = dict(zip(map(id, owned), resolve_owners(session, [o.owner or default for o in owned], actor,
                                                       rtype.name)))
    creates = [o for o in outcomes if o.action == "create"]
    if creates:
        teams = dict(session.execute(select(User.id, User.team_id)).all())
        defaults = new_record_defaults(session, rtype) | {"source": "Import"}
        rows = with_territories(session, [o.values | {k: v for k, v in defaults.items() if not o.values.get(k)}
                                          | {"owner_id": owner_of[id(o)]} for o in creates])
        rows = [row | {"team_id": teams.get(row["owner_id"])} for row in rows]
        table = rtype.model.__table__
        ids = reserve_ids(session, table, len(rows))
        insert_rows(session, table, [row | {"id": rid} for row, rid in zip(rows, ids)])
        now = utcnow()
        insert_rows(session, HistoryEvent.__table__, [
            {"record_type": rtype.name, "record_id": rid, "actor_id": actor.id, "kind": "create",
             "batch_id": batch_id, "at": now} for rid in ids])
        if rtype.name == "lead":
            scoring.rescore(session, ids)
    for o in outcomes:
        if o.action == "update":
            changes = o.values | ({"owner_id": owner_of[id(o)]} if o.owner else {})
            update_record(session, session.get(rtype.model, o.existing), changes, actor, batch_id=batch_id)


def undo_change(batch, rtype: RecordType, now) -> tuple:
    """The first step of undoing an import batch: the mass-change engine's Change and the extra
    conditions that move the records the import CREATED to the trash (restorable from there).

    The records it UPDATED get their previous values back in the second step, the one every undo
    of field changes shares (`trash._undo_steps`, from the batch's "update" history events). An
    import writes plain columns only (the mapping offers no custom fields), so there is no
    `custom` JSON to put back.
    """
    model = rtype.model
    created = select(HistoryEvent.record_id).where(HistoryEvent.batch_id == batch.id,
                                                   HistoryEvent.record_type == rtype.name,
                                                   HistoryEvent.kind == "create")
    change = Change("undo", extra={"deleted_at": now}, kind="delete",
                    phrase=lambda n: f"moved the {count_phrase(n, rtype)} it created to the trash",
                    params={"undoes": batch.id})
    return change, [model.id.in_(created), model.deleted_at.is_(None)]
