"""Mass change: reassign, change stage/status or delete a whole set of records at once.

The set is a `Selection`: the records matching a filter (`parse_filter`, the one filter builder)
or the ticked ids, ALWAYS intersected with what the viewer may edit, minus the owners the user
left out. The drawer's preview and the execution share `Selection.conditions()`, so the count the
user confirms is the set that changes.

Execution is set-based SQL in ONE transaction, never a Python loop over ORM objects:

    _guard         admins and managers only; delete is admin-only
    begin_write    take the write lock first (SQLite: one writer), so nothing moves between the
                   re-count and the update
    pick           freeze the set into a temp table; on PostgreSQL the rows are locked FOR UPDATE
                   in id order, so overlapping mass changes queue instead of interleaving
    StaleSelection the user confirmed N records: if the set now holds another number, refuse
    open_batch     one Batch and its single feed entry ("Admin reassigned 12,345 leads to Ana Ruiz")
    per id chunk   INSERT INTO history_event ... SELECT old values, THEN UPDATE ... WHERE id IN pick

A fault hook runs between chunks (tests raise there); the caller rolls back and nothing changed.
Undo, restore and purge reuse these steps (crm/services/trash.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    Column, ColumnElement, Integer, MetaData, String, Table, bindparam, cast, false, func, insert,
    literal, not_, or_, select, text, true, update,
)
from sqlalchemy.orm import Session

from crm.models import Batch, HistoryEvent, LeadStatus, Pipeline, Stage, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import owners
from crm.services.filters import Filter, conditions
from crm.services.history import close_batch, open_batch
from crm.services.permissions import may_mass_change, may_purge
from crm.services.record_types import RecordType

CHUNK_SIZE = 50_000
FAULT_HOOK: Callable[[int], None] | None = None  # tests: raise between chunks
WORDS = {"reassign": "REASSIGN", "change": "CHANGE", "delete": "DELETE"}

_scratch = MetaData()
PICK = Table("bulk_pick", _scratch, Column("id", Integer, primary_key=True))
ASSIGN = Table("bulk_assign", _scratch, Column("id", Integer, primary_key=True),
               Column("owner_id", Integer), Column("team_id", Integer))


class StaleSelection(DomainError):
    """The set changed between the drawer and the confirmation."""

    def __init__(self, count: int, expected: int | None, noun: str):
        self.count = count
        seen = f" (you confirmed {expected:,})" if expected is not None and expected >= 0 else ""
        super().__init__(f"The set changed since the drawer opened: it now holds {count:,} {noun}{seen}. "
                         "Nothing was changed. Check the numbers and confirm again.")


# --- the set ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """Records a mass change touches: filter ∩ (ticked ids, unless "all matching") ∩ editable − skipped owners."""

    rtype: RecordType
    flt: Filter
    viewer: User
    ids: tuple[int, ...] | None = None  # None: every record matching the filter
    skip_owners: frozenset[int] = frozenset()  # 0 = records without an owner

    @classmethod
    def build(cls, rtype: RecordType, flt: Filter, viewer: User, *, select_all: bool,
              skip_owners: frozenset[int] = frozenset()) -> "Selection":
        ids = None if select_all else tuple(flt.ids or ())
        return cls(rtype, flt.without("ids"), viewer, ids, skip_owners)

    @property
    def noun(self) -> str:
        return self.rtype.plural

    def base_conditions(self) -> list:
        """The set before owners are left out (the owner breakdown lists every owner of it)."""
        model = self.rtype.model
        where = conditions(self.rtype, self.flt, self.viewer, for_edit=True)
        if self.ids is not None:
            # Rendered inline: thousands of ids (a map lasso) exceed SQLite's and psycopg's bind limits.
            where.append(model.id.in_(_literal_ids(self.ids)) if self.ids else false())
        return where

    def conditions(self) -> list:
        return self.base_conditions() + _skip_owners(self.rtype.model.owner_id, self.skip_owners)


def _literal_ids(ids: tuple[int, ...]):
    return bindparam("bulk_ids", [int(i) for i in ids], expanding=True, literal_execute=True)


def _skip_owners(column, skip: frozenset[int]) -> list:
    real = sorted(i for i in skip if i)
    where = [or_(column.is_(None), column.not_in(real))] if real else []
    if 0 in skip:
        where.append(column.is_not(None))
    return where


# --- preview ------------------------------------------------------------------------------------

@dataclass
class OwnerRow:
    owner_id: int  # 0 = no owner
    name: str
    count: int
    skipped: bool


@dataclass
class Preview:
    total: int  # records the action touches
    by_owner: list[OwnerRow]
    by_stage: list[tuple[str, int]]
    ignored: list[int] = field(default_factory=list)  # ticked ids left out (not editable / gone / no match)
    requested: int | None = None

    @property
    def owner_phrase(self) -> str:
        kept = [r for r in self.by_owner if not r.skipped and r.count]
        if len(kept) != 1:
            return "from any owner"
        return f"from {kept[0].name}" if kept[0].owner_id else "without an owner"


def preview(session: Session, sel: Selection) -> Preview:
    """Count and breakdowns of the set, with the ticked ids that were left out."""
    model = sel.rtype.model
    rows = session.execute(select(model.owner_id, func.count()).where(*sel.base_conditions())
                           .group_by(model.owner_id)).all()
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_([o for o, _ in rows if o]))).all())
    by_owner = sorted((OwnerRow(o or 0, names.get(o, "No owner") if o else "No owner", n, (o or 0) in sel.skip_owners)
                       for o, n in rows), key=lambda r: (-r.count, r.name))
    total = sum(r.count for r in by_owner if not r.skipped)
    return Preview(total, by_owner, _by_stage(session, sel), ignored_ids(session, sel),
                   len(sel.ids) if sel.ids is not None else None)


def _by_stage(session: Session, sel: Selection) -> list[tuple[str, int]]:
    model, name = sel.rtype.model, sel.rtype.name
    if name == "deal":
        label = Pipeline.name + literal(": ") + Stage.name
        stmt = (select(label, func.count()).select_from(model).join(Stage, Stage.id == model.stage_id)
                .join(Pipeline, Pipeline.id == Stage.pipeline_id)
                .group_by(Pipeline.position, Pipeline.name, Stage.position, Stage.name)
                .order_by(Pipeline.position, Stage.position))
    elif name == "lead":
        label = func.coalesce(LeadStatus.name, "No status")
        stmt = (select(label, func.count()).select_from(model)
                .outerjoin(LeadStatus, LeadStatus.id == model.status_id)
                .group_by(LeadStatus.position, LeadStatus.name).order_by(LeadStatus.position))
    else:
        return []
    return [(lbl, n) for lbl, n in session.execute(stmt.where(*sel.conditions())).all()]


def ignored_ids(session: Session, sel: Selection) -> list[int]:
    """Ticked ids outside the set: not the viewer's to change, deleted, or no longer matching the filter."""
    if not sel.ids:
        return []
    found = set(session.scalars(select(sel.rtype.model.id).where(*sel.base_conditions())))
    return [i for i in sel.ids if i not in found]


# --- the actions --------------------------------------------------------------------------------

@dataclass
class Change:
    """What an action does to each record: logged fields, unlogged extra values, the event kind."""

    action: str  # reassign | change | delete | undo | restore
    fields: dict[str, ColumnElement] = field(default_factory=dict)  # column -> new value (SQL)
    extra: dict[str, object] = field(default_factory=dict)
    kind: str = "update"  # update: one event per changed field; delete/restore: one event per record
    phrase: Callable[[int], str] = lambda n: ""  # "reassigned 12 leads to Ana Ruiz"
    params: dict = field(default_factory=dict)
    prepare: Callable[[Session], None] | None = None  # runs once the set is frozen (pools)


@dataclass
class Outcome:
    selected: int
    changed: int
    batch: Batch | None
    message: str


def reassign(session: Session, sel: Selection, choice: str, *, expected: int | None,
             chunk_size: int | None = None, fault: Callable[[int], None] | None = None) -> Outcome:
    """Give every record of the set a new owner (team follows owner); a pool spreads them."""
    _guard(sel.viewer, "reassign")
    owner, team, prepare = _owner_plan(session, sel, choice)
    label = owners.choice_label(session, choice)
    change = Change("reassign", {"owner_id": owner, "team_id": team},
                    phrase=lambda n: f"reassigned {count_phrase(n, sel.rtype)} to {label}",
                    params={"owner": choice, "owner_label": label}, prepare=prepare)
    outcome = run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
                  chunk_size=chunk_size, fault=fault)
    same = outcome.selected - outcome.changed
    if same and outcome.changed:
        outcome.message += f" {count_phrase(same, sel.rtype)} already belonged to {label} and stayed as they were."
    elif not outcome.changed:
        outcome.message = f"Nothing to change: {'the' if same != 1 else 'that'} {count_phrase(same, sel.rtype)} already belonged to {label}."
    return outcome


def _owner_plan(session: Session, sel: Selection, choice: str):
    """New owner/team as SQL: one user for all (literals), or per record from the owner service (pools)."""
    kind, _ident = owners.parse_choice(choice)
    if kind is None:
        raise DomainError("Choose the new owner.")
    model = sel.rtype.model
    if kind == "user":
        user = owners.resolve_owner(session, choice, sel.viewer, sel.rtype.name)
        return literal(user.id, Integer), literal(user.team_id, Integer), None

    def spread(s: Session) -> None:
        _scratch_table(s, ASSIGN)
        assigned = owners.resolve_owner_bulk(s, choice, sel.viewer, sel.rtype.name,
                                             select(PICK.c.id).order_by(PICK.c.id)).subquery()
        s.execute(insert(ASSIGN).from_select(
            ["id", "owner_id", "team_id"],
            select(assigned.c.record_id, assigned.c.owner_id, User.team_id)
            .select_from(assigned).outerjoin(User, User.id == assigned.c.owner_id)))
        if sel.viewer.role != "admin":
            bad = s.scalar(select(func.count()).select_from(ASSIGN).join(User, User.id == ASSIGN.c.owner_id)
                           .where(or_(User.team_id.is_distinct_from(sel.viewer.team_id), not_(User.active))))
            if bad:
                raise DomainError("That pool hands records to people outside your team.")

    def per_record(column):
        return select(column).where(ASSIGN.c.id == model.id).scalar_subquery()

    return per_record(ASSIGN.c.owner_id), per_record(ASSIGN.c.team_id), spread


def change_stage(session: Session, sel: Selection, stage_id: int | None, *, expected: int | None,
                 chunk_size: int | None = None, fault: Callable[[int], None] | None = None) -> Outcome:
    """Move every deal to a pipeline stage, or every lead to a lead status."""
    _guard(sel.viewer, "change")
    name = sel.rtype.name
    if name not in ("deal", "lead"):
        raise DomainError(f"{sel.rtype.plural.capitalize()} have no stage or status to change.")
    target = session.get(Stage if name == "deal" else LeadStatus, stage_id) if stage_id else None
    if target is None:
        raise DomainError(f"Choose the new {'stage' if name == 'deal' else 'status'}.")
    if name == "deal":
        fields = {"stage_id": literal(target.id, Integer), "pipeline_id": literal(target.pipeline_id, Integer)}
        label, what = f"{target.pipeline.name}: {target.name}", "stage"
    else:
        fields, label, what = {"status_id": literal(target.id, Integer)}, target.name, "status"
    change = Change("change", fields,
                    phrase=lambda n: f"changed the {what} of {count_phrase(n, sel.rtype)} to {label}",
                    params={what: target.id, "label": label})
    outcome = run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
                  chunk_size=chunk_size, fault=fault)
    if not outcome.changed:
        outcome.message = f"Nothing to change: the {count_phrase(outcome.selected, sel.rtype)} already have the {what} {label}."
    return outcome


def delete(session: Session, sel: Selection, *, expected: int | None,
           chunk_size: int | None = None, fault: Callable[[int], None] | None = None) -> Outcome:
    """Move every record of the set to the trash (soft delete); restore from /trash or Undo."""
    _guard(sel.viewer, "delete")
    now = utcnow()
    change = Change("delete", extra={"deleted_at": now}, kind="delete",
                    phrase=lambda n: f"deleted {count_phrase(n, sel.rtype)}")
    return run(session, sel.rtype, sel.viewer, sel.conditions(), change, expected=expected,
               chunk_size=chunk_size, fault=fault, now=now)


def _guard(viewer: User, action: str) -> None:
    if not may_mass_change(viewer):
        raise PermissionDenied("Only admins and managers can make mass changes.")
    if action == "delete" and not may_purge(viewer):
        raise PermissionDenied("Only admins can delete records in bulk.")


# --- the engine ---------------------------------------------------------------------------------

def run(session: Session, rtype: RecordType, actor: User | None, where: list, change: Change, *,
        expected: int | None, chunk_size: int | None = None,
        fault: Callable[[int], None] | None = None, now: datetime | None = None) -> Outcome:
    """Apply `change` to the records matching `where`, with history, as one set-based transaction.

    The caller commits (or rolls back on any exception: nothing is half-applied).
    """
    return run_steps(session, rtype, actor, [(where, change)], expected=expected, chunk_size=chunk_size,
                     fault=fault, now=now)


def run_steps(session: Session, rtype: RecordType, actor: User | None, steps: list[tuple[list, Change]], *,
              lead: str = "", expected: int | None = None, chunk_size: int | None = None,
              fault: Callable[[int], None] | None = None, now: datetime | None = None) -> Outcome:
    """Apply each (where, change) step in turn under ONE batch, e.g. an import's undo: trash what it
    created, put back what it updated. The summary is `lead` + the steps' phrases joined by "and";
    `expected` (the count the user confirmed) is checked against each step's set.
    """
    now = now or utcnow()
    model = rtype.model
    begin_write(session)
    batch, selected, changed, phrases = None, 0, 0, []
    for where, change in steps:
        picked = pick(session, model, where)
        if expected is not None and picked != expected:
            raise StaleSelection(picked, expected, rtype.plural)
        selected += picked
        if not picked:
            continue
        if change.prepare:
            change.prepare(session)
        differs = _differs(model, change)
        n = session.scalar(select(func.count()).select_from(model).where(_in_pick(model), differs))
        if not n:
            continue
        if batch is None:  # the summary is known once every step has run (close_batch)
            batch = open_batch(session, actor.id if actor else None, change.action, rtype.name, 0, "", change.params)
        _apply(session, rtype, actor, batch.id, now, change, differs, chunk_size, fault)
        changed += n
        phrases.append(change.phrase(n))
    if not selected:
        raise DomainError(f"There are no {rtype.plural} to change: the set is empty.")
    if batch is None:
        return Outcome(selected, 0, None, "")
    phrase = lead + " and ".join(phrases)
    close_batch(session, batch, changed, f"{actor.name if actor else 'System'} {phrase}")
    session.expire_all()
    return Outcome(selected, changed, batch, f"{phrase[:1].upper()}{phrase[1:]}.")


def _apply(session: Session, rtype: RecordType, actor: User | None, batch_id: str, now: datetime,
           change: Change, differs, chunk_size: int | None, fault: Callable[[int], None] | None) -> None:
    """Per chunk of the picked ids: history first, then the UPDATE."""
    model = rtype.model
    extra = {**change.extra, **({"deleted_batch_id": batch_id} if change.kind == "delete" else {})}
    hook = fault or FAULT_HOOK
    for i, (lo, hi) in enumerate(_chunk_bounds(session, chunk_size or CHUNK_SIZE)):
        if i and hook:
            hook(i)
        in_chunk = _in_chunk(model, lo, hi)
        _log(session, rtype, actor, batch_id, now, in_chunk, change)
        session.execute(update(model.__table__).where(*in_chunk, differs)
                        .values(**change.fields, **extra, updated_at=now))


def _differs(model, change: Change):
    if change.kind != "update":
        return true()
    return or_(*(getattr(model, name).is_distinct_from(new) for name, new in change.fields.items()))


def begin_write(session: Session) -> None:
    """SQLite: start the write transaction now (a no-op UPDATE takes the one writer lock)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE batch SET id = id WHERE 0"))


def _scratch_table(session: Session, table: Table) -> None:
    cols = ", ".join(f"{c.name} INTEGER{' PRIMARY KEY' if c.primary_key else ''}" for c in table.columns)
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table.name} ({cols})"))
    session.execute(table.delete())


def pick(session: Session, model, where: list) -> int:
    """Freeze the set (ids) in a temp table; PostgreSQL locks the rows in id order."""
    _scratch_table(session, PICK)
    source = select(model.id).where(*where).order_by(model.id).with_for_update(of=model)
    session.execute(insert(PICK).from_select(["id"], source))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {PICK.name}"))
    return session.scalar(select(func.count()).select_from(PICK))


def _in_pick(model):
    return model.id.in_(select(PICK.c.id))


def _chunk_bounds(session: Session, size: int) -> list[tuple[int, int]]:
    """(first id, last id) of each run of `size` picked ids, by keyset steps (O(n) in all)."""
    bounds: list[tuple[int, int]] = []
    start = session.scalar(select(func.min(PICK.c.id)))
    while start is not None:
        after = select(PICK.c.id).where(PICK.c.id >= start).order_by(PICK.c.id)
        last = session.scalar(after.offset(size - 1).limit(1))
        if last is None:
            last = session.scalar(select(func.max(PICK.c.id)))
        bounds.append((start, last))
        start = session.scalar(select(func.min(PICK.c.id)).where(PICK.c.id > last))
    return bounds


def _in_chunk(model, lo: int, hi: int) -> list:
    """The chunk's rows: an id range on the table (so the scan stays in it) and membership in the pick."""
    return [model.id.between(lo, hi), model.id.in_(select(PICK.c.id).where(PICK.c.id.between(lo, hi)))]


def _log(session: Session, rtype: RecordType, actor: User | None, batch_id: str, now: datetime,
         where: list, change: Change) -> None:
    """History first, from the rows as they are: old values come from the table itself."""
    model = rtype.model
    head = [literal(rtype.name, String), model.id, literal(actor.id if actor else None, Integer),
            literal(now), literal(change.kind, String)]
    names = ["record_type", "record_id", "actor_id", "at", "kind", "field", "old", "new", "batch_id"]
    if change.kind != "update":
        rows = select(*head, literal(None, String), literal(None, String), literal(None, String),
                      literal(batch_id, String)).where(*where)
        session.execute(insert(HistoryEvent).from_select(names, rows))
        return
    for name, new in change.fields.items():
        column = getattr(model, name)
        rows = select(*head, literal(name, String), cast(column, String), cast(new, String),
                      literal(batch_id, String)).where(*where, column.is_distinct_from(new))
        session.execute(insert(HistoryEvent).from_select(names, rows))


def count_phrase(n: int, rtype: RecordType) -> str:
    """'12,345 leads' / '1 lead'."""
    return f"{n:,} {rtype.plural if n != 1 else rtype.label.lower()}"


