"""Undo a mass change, restore deleted records, purge the trash: the way back from crm.services.bulk.

Undo (7 days) restores exactly the previous values the batch's history events recorded; undoing
an import also moves the records it created to the trash. Records changed again since (a later
event on the same field, or trashed, merged or converted since) are reported and left alone unless
the user insists. Every step reuses the bulk engine (`bulk.run`, `bulk.run_steps`): one
transaction, set-based SQL, history first, one batch and feed entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column, Integer, MetaData, String, Table, Text, case, cast, delete, exists, func, insert, literal, or_, select, text,
    update,
)
from sqlalchemy.orm import Session, aliased

from crm.models import Batch, HistoryEvent, Lead, Role, UndoneRecord, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services.bulk import PICK, Change, Outcome, begin_write, pick, run, run_steps
from crm.services.bulk.engine import scratch_table
from crm.services.deal_restore import live_origin_deal, take_back_batch
from crm.services.filters import Filter, conditions, filtered_select
from crm.services.history import open_batch
from crm.services.lead_statuses import restore_removed
from crm.services.permissions import may_mass_change, may_purge, visible_clause
from crm.services.record_types import LEAD, RECORD_TYPES, RecordType, record_type
from crm.services.settings import enabled_types
from crm.services.wording import count_phrase

UNDO_DAYS = 7
UNDOABLE = ("reassign", "change", "delete", "import", "status_remove")
CHILD_TABLES = ("activity", "note", "email_message")
TRASH = Filter(trash=True)


@dataclass
class UndoState:
    """What Undo would do now, for the batch page."""

    possible: bool
    reason: str  # why not, when not possible
    records: int  # records left to undo that the viewer may change
    changed_since: int  # of those, changed again since (left alone unless insisted)
    hidden: int  # records left to undo that the viewer may not change
    undone: int = 0  # records an earlier Undo of this batch already put back


def batch_records(batch: Batch):
    """SELECT of the distinct ids of the records a batch touched."""
    return (select(HistoryEvent.record_id).where(HistoryEvent.batch_id == batch.id,
                                                 HistoryEvent.record_type == batch.record_type)
            .distinct())


def _left_to_undo(batch: Batch, model) -> list:
    """The batch's records that no Undo has covered yet."""
    covered = select(UndoneRecord.record_id).where(UndoneRecord.batch_id == batch.id)
    return [model.id.in_(batch_records(batch)), model.id.not_in(covered)]


def undo_state(session: Session, batch: Batch, viewer: User, now: datetime | None = None) -> UndoState:
    rtype = RECORD_TYPES.get(batch.record_type)
    refusal = _why_not(batch, viewer, now or utcnow())
    reason = str(refusal) if refusal else None
    if rtype is None:
        return UndoState(False, reason or "This batch cannot be undone.", 0, 0, 0)
    model = rtype.model

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    left = _left_to_undo(batch, model)
    total = count(*left)
    mine = [*left, *_reach(batch, model, viewer)]
    records, changed = count(*mine), count(*mine, _changed_since(batch, model))
    undone = session.scalar(select(func.count()).select_from(UndoneRecord).where(UndoneRecord.batch_id == batch.id)) or 0
    if reason is None and not records:
        reason = "You cannot change any of the records left to undo." if total else "Nothing is left to undo."
    return UndoState(reason is None, reason or "", records, changed, total - records, undone)


def _reach(batch: Batch, model, viewer: User) -> list:
    """Records the viewer may change now AND may hand back to their previous owner: a manager's Undo
    never moves records out of their team (as a mass change by them could not)."""
    reach = [visible_clause(model, viewer, for_edit=True)]
    if viewer.role != Role.ADMIN:
        reach.append(_previous(batch, model, "team_id") == viewer.team_id if viewer.team_id
                     else _previous(batch, model, "owner_id") == viewer.id)
    return reach


def _why_not(batch: Batch, viewer: User, now: datetime) -> DomainError | None:
    """Why this viewer cannot undo the batch now: a PermissionDenied for who they are, a DomainError
    for the batch itself; None when they can."""
    if batch.action not in UNDOABLE:
        return DomainError("Only mass changes can be undone here.")
    if batch.undone_at:
        return DomainError(f"This mass change was undone on {batch.undone_at:%Y-%m-%d %H:%M}.")
    if batch.at < now - timedelta(days=UNDO_DAYS):
        return DomainError(f"Mass changes can be undone for {UNDO_DAYS} days; this one is older.")
    if not may_mass_change(viewer) or (batch.action == "delete" and not may_purge(viewer)):
        return PermissionDenied("Only admins and managers can undo mass changes (deletions: admins).")
    if batch.action == "status_remove" and not may_purge(viewer):
        return PermissionDenied("Only admins can undo the removal of a lead status.")
    return None


def _changed_since(batch: Batch, model):
    """Records with a later event (outside this batch) on a field the batch changed on them; for a
    delete batch: restored or trashed again since. Other later events (the record was trashed,
    converted or restored meanwhile) do not count: only the batch's own fields do."""
    mine, later = aliased(HistoryEvent), aliased(HistoryEvent)
    if batch.action == "delete":
        return or_(model.deleted_at.is_(None), model.deleted_batch_id.is_distinct_from(batch.id))
    newer = exists().where(later.record_type == mine.record_type, later.record_id == mine.record_id,
                           later.id > mine.id, later.batch_id.is_distinct_from(batch.id),
                           later.field == mine.field)
    return model.id.in_(select(mine.record_id).where(mine.batch_id == batch.id,
                                                     mine.record_type == batch.record_type, newer))


def undo_batch(session: Session, batch_id: str, viewer: User, *, include_changed: bool = False,
               now: datetime | None = None) -> Outcome:
    """Put back, as they were before the batch, the records left to undo that the viewer may change
    (previous values from history). The batch stays undoable for the others, and is marked undone
    only once none is left."""
    now = now or utcnow()
    batch = _get(session, batch_id)
    refusal = _why_not(batch, viewer, now)
    if refusal is not None:
        raise refusal
    rtype = record_type(batch.record_type)
    model = rtype.model
    where = [*_left_to_undo(batch, model), *_reach(batch, model, viewer)]
    _lock(session, model, where)
    skipped = 0 if include_changed else session.scalar(
        select(func.count()).select_from(model).where(*where, _changed_since(batch, model))) or 0
    if not include_changed:
        where.append(~_changed_since(batch, model))
    if batch.action == "status_remove":  # the leads go back to a status that must exist again first
        restore_removed(session, batch, viewer)
    kept = _duplicates_kept(session, rtype, where + [model.deleted_at.is_not(None)]) if batch.action == "delete" else 0
    if kept:
        where.append(~live_origin_deal())
    covered = _cover(session, batch, model, where, now)
    outcome = _run_or_nothing(session, rtype, viewer, _undo_steps(session, batch, rtype, covered, now),
                              f"undid “{batch.summary}”: ", now)
    if kept:
        outcome.message = f"{outcome.message} {_kept_sentence(kept)}"
    if skipped:
        outcome.message += (f" {count_phrase(skipped, rtype)} changed again since and {'were' if skipped != 1 else 'was'} "
                            "left alone (tick “Undo them too” to include them).")
    left = session.scalar(select(func.count()).select_from(model).where(*_left_to_undo(batch, model))) or 0
    if left:
        outcome.message += f" The mass change stays undoable for the {count_phrase(left, rtype)} left."
    else:
        session.execute(update(Batch).where(Batch.id == batch.id).values(undone_at=now))
    return outcome


def _lock(session: Session, model, where: list) -> None:
    """Take the records before asking which changed since: an edit committed meanwhile is then seen
    (and left alone), one still running waits for the Undo and lands on top of it, never under it."""
    begin_write(session)
    session.execute(select(model.id).where(*where).order_by(model.id).with_for_update(of=model))


def _cover(session: Session, batch: Batch, model, where: list, now: datetime) -> list:
    """Record (before anything changes) which records this Undo covers; the steps act on exactly them."""
    session.execute(insert(UndoneRecord).from_select(
        ["batch_id", "record_id", "at"],
        select(literal(batch.id, String), model.id, literal(now)).where(*where)))
    return [model.id.in_(select(UndoneRecord.record_id).where(UndoneRecord.batch_id == batch.id,
                                                               UndoneRecord.at == now))]


def _undo_steps(session: Session, batch: Batch, rtype: RecordType, where: list, now: datetime) -> list:
    """(where, Change) steps for the engine: out of the trash (delete), into the trash (an import's
    new records), then every field the batch changed back to the old value its events recorded."""
    model = rtype.model
    if batch.action == "delete":
        return [(where, _restore_change(rtype, batch, "undo"))]
    steps = []
    if batch.action == "import":  # crm/services/importing.py
        from crm.services.importing import undo_change
        change, only_created = undo_change(batch, rtype, now)
        steps.append((where + only_created, change))
    fields = _changed_fields(session, batch, model)
    if fields:
        prev = _remember_previous(session, batch, fields)
        what = "put the {} it updated back as before" if batch.action == "import" else "{} back as before"
        steps.append((where + [model.id.in_(select(prev.c.id))],
                      Change("undo", {f: _previous_from(prev, model, f) for f in fields},
                             phrase=lambda n: what.format(count_phrase(n, rtype)), params={"undoes": batch.id})))
    return steps


def _remember_previous(session: Session, batch: Batch, fields: list[str]) -> Table:
    """The batch's old values, one row per record (a column pair per field), read from history once.

    Undo then looks each record up by primary key in this small table instead of searching the
    history table (which grows with every change) for every row and field, several times per row.
    """
    cols = [Column("id", Integer, primary_key=True)]
    for name in fields:
        cols += [Column(f"{name}__old", Text), Column(f"{name}__set", Integer)]
    prev = Table("undo_previous", MetaData(), *cols)
    session.execute(text(f"DROP TABLE IF EXISTS {prev.name}"))
    scratch_table(session, prev)
    values = []
    for name in fields:
        mine = HistoryEvent.field == name
        values += [func.max(case((mine, HistoryEvent.old))), func.max(case((mine, 1), else_=0))]
    session.execute(insert(prev).from_select([c.name for c in cols], select(HistoryEvent.record_id, *values).where(
        HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == batch.record_type,
        HistoryEvent.kind == "update", HistoryEvent.field.in_(fields)).group_by(HistoryEvent.record_id)))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {prev.name}"))
    return prev


def _previous_from(prev: Table, model, name: str):
    """Like `_previous`, from the table `_remember_previous` filled."""
    column = model.__table__.c[name]
    mine = prev.c.id == model.id
    old = cast(select(prev.c[f"{name}__old"]).where(mine).scalar_subquery(), column.type)
    if isinstance(column.type, String) and not column.nullable:
        old = func.coalesce(old, "")
    return case((select(prev.c[f"{name}__set"]).where(mine).scalar_subquery() == 1, old), else_=getattr(model, name))


def _changed_fields(session: Session, batch: Batch, model) -> list[str]:
    """The columns the batch's "update" events changed (mass changes and imports write columns only,
    never `custom.*` JSON keys, so every field it logged is a column Undo can set)."""
    names = session.scalars(select(HistoryEvent.field).distinct().where(
        HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == batch.record_type,
        HistoryEvent.kind == "update", HistoryEvent.field.is_not(None)))
    return sorted(n for n in names if n in model.__table__.c)


def _previous(batch: Batch, model, name: str):
    """The value the batch's event recorded as old (typed like the column), or the current value when it has none."""
    column = model.__table__.c[name]
    event = [HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == batch.record_type,
             HistoryEvent.record_id == model.id, HistoryEvent.field == name]
    old = cast(select(HistoryEvent.old).where(*event).order_by(HistoryEvent.id).limit(1).scalar_subquery(),
               column.type)
    if isinstance(column.type, String) and not column.nullable:
        old = func.coalesce(old, "")  # history keeps an empty text as NULL
    return case((exists().where(*event), old), else_=getattr(model, name))


def _restore_change(rtype: RecordType, batch: Batch | None, action: str) -> Change:
    return Change(action, extra={"deleted_at": None, "deleted_batch_id": None}, kind="restore",
                  phrase=lambda n: f"restored {count_phrase(n, rtype)} from the trash",
                  params={"undoes": batch.id} if batch else {})


def _run_or_nothing(session, rtype, viewer, steps, lead, now) -> Outcome:
    try:
        outcome = run_steps(session, rtype, viewer, steps, lead=lead, now=now)
    except DomainError:
        return Outcome(0, 0, None, "Nothing to undo: no record can be put back.")
    if not outcome.changed:
        outcome.message = "Nothing to undo: the records already have their previous values."
    return outcome


def restore_batch(session: Session, batch_id: str, viewer: User) -> Outcome:
    """Bring back every record of a delete batch (or of a deal -> lead conversion) that is still in the
    trash and the viewer may change; restored deals take their conversion back (deal_restore)."""
    batch = _get(session, batch_id)
    if batch.action not in ("delete", "convert"):
        raise DomainError("Only deleted or converted records can be restored from the trash.")
    if not may_mass_change(viewer):
        raise PermissionDenied("Only admins and managers can restore a whole batch; restore records one by one.")
    rtype = record_type(batch.record_type)
    model = rtype.model
    where = [model.deleted_batch_id == batch.id, model.deleted_at.is_not(None),
             visible_clause(model, viewer, for_edit=True)]
    kept = _duplicates_kept(session, rtype, where)
    if kept:
        where.append(~live_origin_deal())
    outcome = run(session, rtype, viewer, where, _restore_change(rtype, None, "restore"), expected=None)
    if kept:
        outcome.message = f"{outcome.message or ''} {_kept_sentence(kept)}".strip()
    if rtype.name == "deal" and outcome.batch is not None:
        leads = take_back_batch(session, outcome.batch.id, viewer, outcome.changed)
        outcome.message = f"{outcome.message} {leads}".rstrip()
    return outcome


def _duplicates_kept(session: Session, rtype: RecordType, where: list) -> int:
    """How many leads of a restore stay in the trash because the deal they came from was restored."""
    if rtype.name != "lead":
        return 0
    return session.scalar(select(func.count()).select_from(Lead).where(*where, live_origin_deal()))


def _kept_sentence(kept: int) -> str:
    return (f"{count_phrase(kept, LEAD)} stay{'s' if kept == 1 else ''} in the trash: "
            f"{'they' if kept != 1 else 'it'} came from deals that were restored, and restoring "
            f"{'them' if kept != 1 else 'it'} too would make duplicates.")


def _get(session: Session, batch_id: str) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise LookupError(batch_id)
    return batch


# --- the trash page -----------------------------------------------------------------------------

def trash_select(rtype: RecordType, viewer: User):
    """The records in the trash the viewer may restore: the filter builder's `?trash=1`, newest first."""
    model = rtype.model
    return filtered_select(rtype, TRASH, viewer).order_by(model.deleted_at.desc(), model.id.desc())


def trash_counts(session: Session, viewer: User) -> dict[str, int]:
    """Records in the trash per record type the viewer works with (no leads where they are off)."""
    return {name: session.scalar(filtered_select(t, TRASH, viewer, columns=(func.count(),))) or 0
            for name, t in enabled_types(session, viewer).items()}


def trash_batches(session: Session, viewer: User) -> list[tuple[Batch, int]]:
    """Delete batches with records still in the trash (that the viewer may change), newest first."""
    result = []
    for rtype in enabled_types(session, viewer).values():
        model = rtype.model
        rows = session.execute(
            select(Batch, func.count(model.id)).join(model, model.deleted_batch_id == Batch.id)
            .where(*conditions(rtype, TRASH, viewer)).group_by(Batch.id)).all()
        result += [(b, n) for b, n in rows]
    return sorted(result, key=lambda r: r[0].at, reverse=True)


# --- purge --------------------------------------------------------------------------------------

def purge_trash(session: Session, older_than: timedelta, now: datetime | None = None) -> dict[str, int]:
    """Delete for good the records in the trash for longer than `older_than`; one purge event each."""
    now = now or utcnow()
    cutoff = now - older_than
    begin_write(session)
    purged = {}
    for rtype in RECORD_TYPES.values():
        model = rtype.model
        n = pick(session, model, [model.deleted_at.is_not(None), model.deleted_at < cutoff])
        purged[rtype.name] = n
        if not n:
            continue
        days = older_than.days
        batch = open_batch(session, None, "purge", rtype.name, n,
                           f"System purged {count_phrase(n, rtype)} that were in the trash for more than "
                           f"{days} day{'s' if days != 1 else ''}", {"older_than_days": days})
        in_pick = model.id.in_(select(PICK.c.id))
        session.execute(insert(HistoryEvent).from_select(
            ["record_type", "record_id", "actor_id", "at", "kind", "batch_id"],
            select(literal(rtype.name, String), model.id, literal(None, Integer), literal(now),
                   literal("purge", String), literal(batch.id, String)).where(in_pick)))
        _detach(session, model)
        session.execute(delete(model.__table__).where(in_pick))
    session.expire_all()
    return purged


def _detach(session: Session, model) -> None:
    """Children (activities, notes, emails) go with the record; other references are cleared."""
    target = model.__table__
    for table in target.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            refs = fk.parent.in_(select(PICK.c.id))
            if table.name in CHILD_TABLES:
                session.execute(delete(table).where(refs))
            elif fk.parent.nullable:
                session.execute(update(table).where(refs).values({fk.parent.name: None}))

