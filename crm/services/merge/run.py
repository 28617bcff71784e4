"""Merge and Undo merge: the steps, in order (see the package docstring)."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, cast, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.models import (
    Activity, Batch, Contact, Deal, EmailMessage, HistoryEvent, Lead, MergeLink,
    MergeMove, Note, Team, User,
)
from crm.models.mixins import utcnow
from crm.params import shown, to_id
from crm.services import DomainError, PermissionDenied, history
from crm.services.editing import update_record
from crm.services.owners import check_assignable
from crm.services.permissions import can_edit, can_view
from crm.services.merge.rows import default_choices, fields_for, merged_values, survivor_key
from crm.services.record_types import RECORD_TYPES, RecordType

MIN_RECORDS, MAX_RECORDS = 2, 5
KEEP = object()  # "keep the survivor's salesperson/team"


CHILDREN = (Activity, Note, EmailMessage)
# Records that point at a record of this type; they follow it to the survivor.
LINKS: dict[str, tuple[tuple[type, str], ...]] = {
    "lead": (),
    "deal": ((Lead, "converted_deal_id"), (Lead, "origin_deal_id")),
    "contact": ((Deal, "contact_id"), (Lead, "contact_id"), (Lead, "converted_contact_id")),
    "organization": ((Deal, "organization_id"), (Contact, "organization_id"),
                     (Lead, "organization_id"), (Lead, "converted_organization_id")),
}


@dataclass
class MergeResult:
    survivor: object
    merged: list
    batch_id: str
    moved: dict[str, int] = field(default_factory=dict)  # "activity.lead_id" -> rows moved
    changes: dict[str, tuple] = field(default_factory=dict)


# --- public API ---------------------------------------------------------------------------------

def merge_records(session: Session, record_type: RecordType | str, ids, survivor_id: int | None = None,
                  choices: dict | None = None, actor: User | None = None, *,
                  owner_id=KEEP, team_id=KEEP) -> MergeResult:
    """Merge records into one survivor; see the module docstring for the steps.

    `choices` maps a panel row (a field name, a group such as "place", or "custom.<key>") to the id of the record whose
    value survives, or to "concat" for CONCAT fields; missing fields get `default_choices`.
    `owner_id`/`team_id` set the result's salesperson and team (default: the survivor's).
    """
    rtype = _rtype(record_type)
    records = _guard(session, rtype, ids, actor)
    ranked = _rank(records)
    survivor = _survivor(ranked, survivor_id)
    others = [r for r in ranked if r is not survivor]
    batch = history.open_batch(session, actor.id, "merge", rtype.name, len(records), "",
                               {"survivor": survivor.id, "merged": [r.id for r in others]})
    values = _merge_fields(session, rtype, survivor, ranked, choices or {}, actor, owner_id, team_id)
    changes = update_record(session, survivor, values, actor, batch_id=batch.id)
    history.close_batch(session, batch, len(records), f"{actor.name} merged {len(records)} {rtype.plural} "
                                                      f"into #{survivor.id} “{_title(rtype, survivor)}”")
    batch.params = {**batch.params, "before": {k: _jsonable(old) for k, (old, _new) in changes.items()}}
    moved = _move_children(session, rtype, survivor, others, actor, batch.id)
    _retire(session, rtype, survivor, others, batch.id)
    _log(session, rtype, survivor, others, actor, batch.id)
    session.flush()
    return MergeResult(survivor, others, batch.id, moved, changes)


def undo_merge(session: Session, batch_id: str, actor: User) -> MergeResult:
    """Restore the merged records, move their children back, put the survivor's old values back."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.action != "merge":
        raise DomainError("There is no such merge.")
    if batch.undone_at is not None:
        raise DomainError("This merge was already undone.")
    rtype = _rtype(batch.record_type)
    survivor = session.get(rtype.model, batch.params["survivor"])
    others = [session.get(rtype.model, i) for i in batch.params["merged"]]
    if survivor is None or any(o is None for o in others):
        raise DomainError("A merged record was purged from the trash: this merge cannot be undone.")
    if not all(can_edit(actor, r) for r in [survivor, *others]):
        raise PermissionDenied("Only someone who may change all these records can undo this merge.")
    undo = history.open_batch(session, actor.id, "undo", rtype.name, len(others) + 1,
                              f"{actor.name} undid the merge into #{survivor.id} “{_title(rtype, survivor)}”",
                              {"undoes": batch.id})
    moved = _move_children_back(session, rtype, survivor, batch.id)
    for other in others:
        other.deleted_at, other.deleted_batch_id = None, None
        if hasattr(other, "merged_into_id"):
            other.merged_into_id = None
        history.log(session, rtype.name, other.id, actor.id, "restore", batch_id=undo.id)
    now = utcnow()
    session.execute(update(MergeLink).where(MergeLink.batch_id == batch.id).values(undone_at=now))
    batch.undone_at = now
    before = _from_json(rtype, batch.params.get("before", {}))
    changes = update_record(session, survivor, before, actor, batch_id=undo.id) if before else {}
    history.log(session, rtype.name, survivor.id, actor.id, "unmerge",
                new=f"merge undone: {_ids_text(others)} restored", batch_id=undo.id)
    session.flush()
    return MergeResult(survivor, others, undo.id, moved, changes)


def ranked(session: Session, record_type: RecordType | str, ids, actor: User) -> list:
    """The records of a would-be merge, checked as a merge checks them, best survivor first."""
    rtype = _rtype(record_type)
    return _rank(_guard(session, rtype, ids, actor, lock=False))


# --- steps --------------------------------------------------------------------------------------

def _guard(session: Session, rtype: RecordType, ids, actor: User | None, *, lock: bool = True) -> list:
    if actor is None:
        raise PermissionDenied("Log in to merge records.")
    wanted = _parse_ids(ids)
    if not MIN_RECORDS <= len(wanted) <= MAX_RECORDS:
        raise DomainError(f"Select {MIN_RECORDS} to {MAX_RECORDS} {rtype.plural} to merge "
                          f"({len(wanted)} selected).")
    stmt = select(rtype.model).where(rtype.model.id.in_(wanted))
    found = {r.id: r for r in session.scalars(stmt.with_for_update() if lock else stmt)
             if can_view(actor, r)}  # an invisible record is as good as missing: say nothing about it
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DomainError(f"There is no {rtype.label.lower()} {_ids_text(missing)}; nothing was merged.")
    trashed = [r for r in found.values() if r.deleted_at is not None]
    if trashed:
        raise DomainError(f"{rtype.label} {_ids_text(trashed)} is in the trash: restore it before merging.")
    converted = [r for r in found.values() if getattr(r, "converted_at", None) is not None]
    if converted:  # conversion made them read-only (issue 5): merge before converting
        raise DomainError(f"{rtype.label} {_ids_text(converted)} was converted and is read-only; "
                          f"merge leads before converting them.")
    forbidden = [r for r in found.values() if not can_edit(actor, r)]
    if forbidden:
        raise PermissionDenied(f"You may not change {rtype.label.lower()} {_ids_text(forbidden)}: "
                               f"only someone who may change all of them can merge them.")
    return [found[i] for i in wanted]


def _rank(records: list) -> list:
    return sorted(records, key=survivor_key)


def _survivor(ranked_records: list, survivor_id) -> object:
    if survivor_id in (None, ""):
        return ranked_records[0]
    for record in ranked_records:
        if str(record.id) == str(survivor_id):
            return record
    raise DomainError(f"The record to keep (#{survivor_id}) is not one of those being merged.")


def _merge_fields(session: Session, rtype: RecordType, survivor, records: list, choices: dict,
                  actor: User, owner_id, team_id) -> dict:
    """The survivor's new values (per row of the panel, see `rows`) and the salesperson/team."""
    rows = fields_for(session, rtype)
    chosen = default_choices(records, rows, survivor) | {k: str(v) for k, v in choices.items()}
    return merged_values(rows, records, chosen) | _assignment(session, survivor, records, actor, owner_id, team_id)


def allowed_teams(records: list, actor: User) -> set[int]:
    """Teams a non-admin may give the result: their own and those the records already have."""
    return {t for t in [actor.team_id, *(r.team_id for r in records)] if t is not None}


def _assignment(session: Session, survivor, records: list, actor: User, owner_id, team_id) -> dict:
    """The result's salesperson and team; the team follows a changed salesperson unless given."""
    owner = survivor.owner_id if owner_id is KEEP else owner_id
    if owner is not None and owner != survivor.owner_id:
        check_assignable(session.get(User, owner), actor)
    if team_id is KEEP:
        user = session.get(User, owner) if owner is not None else None
        team_id = survivor.team_id if owner == survivor.owner_id else (user.team_id if user else None)
    if team_id is not None and session.get(Team, team_id) is None:
        raise DomainError("That team does not exist.")
    if team_id != survivor.team_id and not actor.is_admin and team_id not in allowed_teams(records, actor):
        raise PermissionDenied("You can only give the result your own team or one the records have.")
    return {"owner_id": owner, "team_id": team_id}


def _move_children(session: Session, rtype: RecordType, survivor, others: list, actor: User,
                   batch_id: str) -> dict[str, int]:
    """Re-point every child row and link of the others to the survivor, set-based, remembering
    each moved row for undo. Linked records (a deal of a merged contact) get a history event."""
    other_ids = [o.id for o in others]
    moved = {}
    for model, column_name in _targets(rtype):
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


def _targets(rtype: RecordType) -> list[tuple[type, str]]:
    """Every (model, column) that points at a record of this type."""
    return [(model, f"{rtype.name}_id") for model in CHILDREN] + list(LINKS[rtype.name])


def _log_link_changes(session: Session, model, column_name: str, from_ids: list[int], to_id: int,
                      actor: User, batch_id: str) -> None:
    column = getattr(model, column_name)
    linked_type = next(t for t in RECORD_TYPES.values() if t.model is model)
    session.execute(insert(HistoryEvent).from_select(
        ["record_type", "record_id", "actor_id", "kind", "field", "old", "new", "batch_id", "at"],
        select(literal(linked_type.name), model.id, literal(actor.id), literal("update"),
               literal(column_name), cast(column, String), literal(str(to_id)), literal(batch_id),
               literal(utcnow())).where(column.in_(from_ids))))


def _move_children_back(session: Session, rtype: RecordType, survivor, batch_id: str) -> dict[str, int]:
    """Rows still on the survivor go back to the record they came from (one UPDATE per target)."""
    moved = {}
    for model, column_name in _targets(rtype):
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


def _retire(session: Session, rtype: RecordType, survivor, others: list, batch_id: str) -> None:
    now = utcnow()
    for other in others:
        other.deleted_at, other.deleted_batch_id = now, batch_id
        if hasattr(other, "merged_into_id"):
            other.merged_into_id = survivor.id
    session.execute(insert(MergeLink), [dict(batch_id=batch_id, record_type=rtype.name, record_id=o.id,
                                             survivor_id=survivor.id) for o in others])


def _log(session: Session, rtype: RecordType, survivor, others: list, actor: User, batch_id: str) -> None:
    history.log(session, rtype.name, survivor.id, actor.id, "merge", field="survivor",
                new=f"kept this {rtype.label.lower()}, merged in {_ids_text(others)}", batch_id=batch_id)
    for other in others:
        history.log(session, rtype.name, other.id, actor.id, "merge",
                    new=f"into #{survivor.id} “{_title(rtype, survivor)}”", batch_id=batch_id)


# --- helpers ------------------------------------------------------------------------------------

def _rtype(record_type: RecordType | str) -> RecordType:
    return RECORD_TYPES[record_type] if isinstance(record_type, str) else record_type


def _parse_ids(ids) -> list[int]:
    raw = ids.split(",") if isinstance(ids, str) else list(ids)
    parsed = []
    for value in (str(v).strip() for v in raw):
        if not value:
            continue
        ident = to_id(value)
        if ident is None:
            raise DomainError(f"{shown(value)!r} is not a record id; nothing was merged.")
        if ident not in parsed:
            parsed.append(ident)
    return parsed


def _title(rtype: RecordType, record) -> str:
    return getattr(record, rtype.title_column)


def _ids_text(records_or_ids) -> str:
    ids = [r if isinstance(r, int) else r.id for r in records_or_ids]
    return ", ".join(f"#{i}" for i in ids)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


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
