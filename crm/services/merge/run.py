"""Merge: the steps, in order (see the package docstring)."""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm.models import HistoryEvent, MergeLink, Team, User
from crm.models.mixins import utcnow
from crm.params import shown, to_id
from crm.services import DomainError, PermissionDenied, history
from crm.services.bulk import begin_write
from crm.services.editing import update_record
from crm.services.merge.moves import move_children
from crm.services.merge.rows import default_choices, fields_for, losing_values, merged_values, survivor_key
from crm.services.owners import check_assignable
from crm.services.permissions import can_edit, can_view
from crm.services.record_types import RECORD_TYPES, RecordType

MIN_RECORDS, MAX_RECORDS = 2, 5
KEEP = object()  # "keep the survivor's salesperson/team"


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
    rtype = rtype_of(record_type)
    records = _guard(session, rtype, ids, actor)
    ranked = _rank(records)
    survivor = _survivor(ranked, survivor_id)
    others = [r for r in ranked if r is not survivor]
    batch = history.open_batch(session, actor.id, "merge", rtype.name, len(records), "",
                               {"survivor": survivor.id, "merged": [r.id for r in others]})
    rows = fields_for(session, rtype)
    chosen = default_choices(ranked, rows, survivor) | {k: str(v) for k, v in (choices or {}).items()}
    values = merged_values(rows, ranked, chosen) | _assignment(session, survivor, ranked, actor, owner_id, team_id)
    _log_losing_values(session, rtype, survivor, losing_values(rows, ranked, survivor, chosen), actor, batch.id)
    changes = update_record(session, survivor, values, actor, batch_id=batch.id)
    history.close_batch(session, batch, len(records), f"{actor.name} merged {len(records)} {rtype.plural} "
                                                      f"into #{survivor.id} “{title_of(rtype, survivor)}”")
    batch.params = {**batch.params, "before": {k: _jsonable(old) for k, (old, _new) in changes.items()}}
    moved = move_children(session, rtype, survivor, others, actor, batch.id)
    _retire(session, rtype, survivor, others, batch.id)
    _log(session, rtype, survivor, others, actor, batch.id)
    session.flush()
    return MergeResult(survivor, others, batch.id, moved, changes)


def ranked(session: Session, record_type: RecordType | str, ids, actor: User) -> list:
    """The records of a would-be merge, checked as a merge checks them, best survivor first."""
    rtype = rtype_of(record_type)
    return _rank(_guard(session, rtype, ids, actor, lock=False))


# --- steps --------------------------------------------------------------------------------------

def _guard(session: Session, rtype: RecordType, ids, actor: User | None, *, lock: bool = True) -> list:
    if actor is None:
        raise PermissionDenied("Log in to merge records.")
    wanted = _parse_ids(ids)
    if not MIN_RECORDS <= len(wanted) <= MAX_RECORDS:
        raise DomainError(f"Select {MIN_RECORDS} to {MAX_RECORDS} {rtype.plural} to merge "
                          f"({len(wanted)} selected).")
    stmt = select(rtype.model).where(rtype.model.id.in_(wanted)).order_by(rtype.model.id)
    if lock:  # read what a concurrent merge left (trashed records), rows locked in id order: no deadlock
        begin_write(session)
        stmt = stmt.with_for_update()
    found = {r.id: r for r in session.scalars(stmt)
             if can_view(actor, r)}  # an invisible record is as good as missing: say nothing about it
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DomainError(f"There is no {rtype.label.lower()} {ids_text(missing)}; nothing was merged.")
    trashed = [r for r in found.values() if r.deleted_at is not None]
    if trashed:
        raise DomainError(f"{rtype.label} {ids_text(trashed)} is in the trash: restore it before merging.")
    converted = [r for r in found.values() if getattr(r, "converted_at", None) is not None]
    if converted:  # conversion made them read-only (issue 5): merge before converting
        raise DomainError(f"{rtype.label} {ids_text(converted)} was converted and is read-only; "
                          f"merge leads before converting them.")
    forbidden = [r for r in found.values() if not can_edit(actor, r)]
    if forbidden:
        raise PermissionDenied(f"You may not change {rtype.label.lower()} {ids_text(forbidden)}: "
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


def _retire(session: Session, rtype: RecordType, survivor, others: list, batch_id: str) -> None:
    now = utcnow()
    for other in others:
        other.deleted_at, other.deleted_batch_id = now, batch_id
        if hasattr(other, "merged_into_id"):
            other.merged_into_id = survivor.id
    session.execute(insert(MergeLink), [dict(batch_id=batch_id, record_type=rtype.name, record_id=o.id,
                                             survivor_id=survivor.id) for o in others])


def _log_losing_values(session: Session, rtype: RecordType, survivor, lost: list[tuple], actor: User,
                       batch_id: str) -> None:
    """Every value the result does not keep goes on the survivor's timeline ("merged from #2228:
    Phone +46 …"), so nothing is lost even after the merged records are purged from the trash."""
    if not lost:
        return
    session.execute(insert(HistoryEvent), [
        dict(record_type=rtype.name, record_id=survivor.id, actor_id=actor.id, kind="merge_value",
             field=row.fields[0].name, old=text, new=str(record.id), batch_id=batch_id, at=utcnow())
        for record, row, text in lost])


def _log(session: Session, rtype: RecordType, survivor, others: list, actor: User, batch_id: str) -> None:
    history.log(session, rtype.name, survivor.id, actor.id, "merge", field="survivor",
                new=f"kept this {rtype.label.lower()}, merged in {ids_text(others)}", batch_id=batch_id)
    for other in others:
        history.log(session, rtype.name, other.id, actor.id, "merge",
                    new=f"into #{survivor.id} “{title_of(rtype, survivor)}”", batch_id=batch_id)


# --- helpers ------------------------------------------------------------------------------------

def rtype_of(record_type: RecordType | str) -> RecordType:
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


def title_of(rtype: RecordType, record) -> str:
    return getattr(record, rtype.title_column)


def ids_text(records_or_ids) -> str:
    ids = [r if isinstance(r, int) else r.id for r in records_or_ids]
    return ", ".join(f"#{i}" for i in ids)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
