"""Undo merge: the merged records come back with their children, and the survivor gets back the
values it had before the merge, except the fields changed since that the user chooses to keep.

`undo_plan` says what Undo would do now, including every field of the survivor that someone
changed after the merge (its value before the merge, its value now, who changed it and when);
`undo_merge(..., revert=...)` puts back only the changed-since fields named in `revert`.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Batch, HistoryEvent, MergeLink, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied, history
from crm.services.editing import update_record
from crm.services.history import REFERENCES
from crm.services.merge.moves import move_children_back
from crm.services.merge.rows import fields_for
from crm.services.merge.run import MergeResult, ids_text, rtype_of, title_of
from crm.services.permissions import can_edit, can_view
from crm.services.record_types import RecordType

HIDDEN = ("lat", "lng", "territory_id", "team_id", "pipeline_id")  # travel with a shown column


class NoSuchMerge(DomainError):
    """No merge by that id that the user may see (the page answers 404)."""


@dataclass
class LaterChange:
    """A part of the survivor (a field, the address, the salesperson) changed since the merge."""

    name: str
    label: str
    columns: tuple[str, ...]  # the columns Undo would put back
    before: str  # as it was before the merge
    now: str
    by: str  # who changed it last, and when
    at: datetime


@dataclass
class UndoPlan:
    batch: Batch
    rtype: RecordType
    survivor: object
    others: list
    changed: list[LaterChange] = field(default_factory=list)  # the user keeps or reverts each
    untouched: list[str] = field(default_factory=list)  # labels of other fields changed since: Undo leaves them

    @property
    def merged_ids(self) -> str:
        return ids_text(self.others)


def undo_plan(session: Session, batch_id: str, actor: User) -> UndoPlan:
    """What Undo merge would do now; DomainError when it cannot be undone (any more, or by this user)."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.action != "merge":
        raise NoSuchMerge(_l("There is no such merge."))
    rtype = rtype_of(batch.record_type)
    survivor = session.get(rtype.model, batch.params["survivor"])
    if survivor is not None and not can_view(actor, survivor):
        raise NoSuchMerge(_l("There is no such merge."))
    if batch.undone_at is not None:
        raise DomainError(_l("This merge was already undone."))
    others = [session.get(rtype.model, i) for i in batch.params["merged"]]
    if survivor is None or any(o is None for o in others):
        raise DomainError(_l("A merged record was purged from the trash: this merge cannot be undone."))
    if not all(can_edit(actor, r) for r in [survivor, *others]):
        raise PermissionDenied(_l("Only someone who may change all these records can undo this merge."))
    plan = UndoPlan(batch, rtype, survivor, others)
    _changes_since(session, plan)
    return plan


def undo_merge(session: Session, batch_id: str, actor: User, revert=()) -> MergeResult:
    """Restore the merged records, move their children back, put the survivor's old values back;
    fields changed since the merge keep their current value unless named in `revert`."""
    plan = undo_plan(session, batch_id, actor)
    batch, rtype, survivor, others = plan.batch, plan.rtype, plan.survivor, plan.others
    undo = history.open_batch(session, actor.id, "undo", rtype.name, len(others) + 1,
                              f"{actor.name} undid the merge into #{survivor.id} “{title_of(rtype, survivor)}”",
                              {"undoes": batch.id})
    moved = move_children_back(session, rtype, survivor, batch.id)
    for other in others:
        other.deleted_at, other.deleted_batch_id = None, None
        if hasattr(other, "merged_into_id"):
            other.merged_into_id = None
        history.log(session, rtype.name, other.id, actor.id, "restore", batch_id=undo.id)
    now = utcnow()
    session.execute(update(MergeLink).where(MergeLink.batch_id == batch.id).values(undone_at=now))
    batch.undone_at = now
    kept = {c for change in plan.changed if change.name not in revert for c in change.columns}
    before = _from_json(rtype, {k: v for k, v in batch.params.get("before", {}).items() if k not in kept})
    changes = update_record(session, survivor, before, actor, batch_id=undo.id) if before else {}
    history.log(session, rtype.name, survivor.id, actor.id, "unmerge",
                new=f"merge undone: {ids_text(others)} restored", batch_id=undo.id)
    session.flush()
    return MergeResult(survivor, others, undo.id, moved, changes)


# --- changed since the merge ----------------------------------------------------------------------

def _changes_since(session: Session, plan: UndoPlan) -> None:
    """Fill `plan.changed` (parts Undo would put back that changed since) and `plan.untouched`."""
    rtype, survivor, batch = plan.rtype, plan.survivor, plan.batch
    mine = {e.field: e for e in _events(session, rtype, survivor, HistoryEvent.batch_id == batch.id)}
    if not mine:
        return
    start = min(e.id for e in mine.values())
    later: dict[str, HistoryEvent] = {}
    for e in _events(session, rtype, survivor, HistoryEvent.id > start,
                     HistoryEvent.batch_id.is_distinct_from(batch.id)):
        if e.id > getattr(mine.get(e.field), "id", 0):
            later[e.field] = e  # the last change of each field
    before = batch.params.get("before", {})
    for name, label, columns in _parts(session, rtype):
        changed = [c for c in columns if c in later]
        if changed and set(columns) & set(before):
            last = max((later[c] for c in changed), key=lambda e: e.id)
            plan.changed.append(LaterChange(
                name, label, tuple(c for c in columns if c in before),
                _text(session, columns, lambda c: before[c] if c in before else _current(survivor, c)),
                _text(session, columns, lambda c: _current(survivor, c)),
                last.actor.name if last.actor else _("System"), last.at))
        elif changed:
            plan.untouched.append(label)


def _events(session: Session, rtype: RecordType, survivor, *where) -> list[HistoryEvent]:
    return list(session.scalars(select(HistoryEvent).where(
        HistoryEvent.record_type == rtype.name, HistoryEvent.record_id == survivor.id,
        HistoryEvent.kind == "update", HistoryEvent.field.is_not(None), *where).order_by(HistoryEvent.id)))


def _parts(session: Session, rtype: RecordType) -> list[tuple[str, str, tuple[str, ...]]]:
    """What the user keeps or reverts as one: a merge panel row (the address with its coordinates and
    territory), or the salesperson with the team."""
    parts = []
    for row in fields_for(session, rtype):
        columns = (f"custom.{row.custom_key}",) if row.custom_key else row.cols
        parts.append((row.name, str(row.label), columns + (("territory_id",) if "lat" in columns else ())))
    parts.append(("owner", _("Salesperson"), ("owner_id", "team_id")))
    return parts


def _current(record, column: str):
    if column.startswith("custom."):
        return (record.custom or {}).get(column.removeprefix("custom."))
    return getattr(record, column)


def _text(session: Session, columns: tuple[str, ...], value) -> str:
    """What people read for a part: names for references, the shown columns joined ("Lund, Sweden")."""
    parts = []
    for column in columns:
        raw = value(column)
        if column in HIDDEN or raw in (None, ""):
            continue
        if column in REFERENCES and str(raw).isdigit():
            target = session.get(REFERENCES[column][0], int(raw))
            raw = str(target) if target is not None else f"#{raw}"
        parts.append(str(raw))
    return ", ".join(parts) or "—"


def _from_json(rtype: RecordType, before: dict) -> dict:
    """Snapshot values back to column types (custom.<key> values go into `custom`)."""
    values: dict = {}
    table = rtype.model.__table__
    for name, value in before.items():
        if name.startswith("custom."):
            values.setdefault("custom", {})[name.removeprefix("custom.")] = value
            continue
        kind = table.c[name].type.python_type if value is not None else None
        if kind is Decimal:
            value = Decimal(value)
        elif kind is datetime:
            value = datetime.fromisoformat(value)
        elif kind is date:
            value = date.fromisoformat(value)
        values[name] = value
    return values
