"""The bulk engine: apply one change to a frozen set of records, with history, set-based.

    begin_write    take the write lock first (SQLite: one writer), so nothing moves between the
                   re-count and the update
    pick           freeze the set into a temp table; on PostgreSQL the rows are locked FOR UPDATE
                   in id order, so overlapping mass changes queue instead of interleaving
    StaleSelection the user confirmed N records: if the set now holds another number, refuse
    open_batch     one Batch and its single feed entry ("Admin reassigned 12,345 leads to Ana Ruiz")
    per id chunk   INSERT INTO history_event ... SELECT old values, THEN UPDATE ... WHERE id IN pick

A fault hook runs between chunks (tests raise there); the caller rolls back and nothing changed.
Mass change (`actions`), undo, restore and purge (crm/services/trash.py), import undo and lead
status removal all run on it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from babel.lists import format_list
from sqlalchemy import (
    Column, ColumnElement, Integer, MetaData, String, Table, cast, func, insert, literal, or_,
    select, text, true, update,
)
from sqlalchemy.orm import Session

from crm.formatting import current_locale, number
from crm.i18n import _
from crm.models import Batch, HistoryEvent, Lead, User
from crm.models.mixins import utcnow
from crm.services import DomainError, scoring
from crm.services.bulk.fingerprint import set_fingerprint
from crm.services.history import close_batch, open_batch
from crm.services.record_types import RecordType
from crm.services.wording import count_phrase

CHUNK_SIZE = 50_000
FAULT_HOOK: Callable[[int], None] | None = None  # tests: raise between chunks

SCRATCH = MetaData()  # temporary tables, never created by migrations
PICK = Table("bulk_pick", SCRATCH, Column("id", Integer, primary_key=True))


class StaleSelection(DomainError):
    """The set changed between the drawer and the confirmation (its size, or its members)."""

    def __init__(self, count: int, expected: int | None, rtype: RecordType):
        self.count = count
        records = count_phrase(count, rtype)
        if expected == count:
            message = _("The set changed since the drawer opened: some records left it and others joined "
                        "it (it still holds %(records)s). Nothing was changed. Check the numbers and "
                        "confirm again.", records=records)
        elif expected is not None and expected >= 0:
            message = _("The set changed since the drawer opened: it now holds %(records)s (you confirmed "
                        "%(confirmed)s). Nothing was changed. Check the numbers and confirm again.",
                        records=records, confirmed=number(expected))
        else:
            message = _("The set changed since the drawer opened: it now holds %(records)s. Nothing was "
                        "changed. Check the numbers and confirm again.", records=records)
        super().__init__(message)


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
    via: str | None = None  # what chose the new values ("pool:2"), kept on each history event


@dataclass
class Outcome:
    selected: int
    changed: int
    batch: Batch | None
    message: str


# --- the engine ---------------------------------------------------------------------------------

def run(session: Session, rtype: RecordType, actor: User | None, where: list, change: Change, *,
        expected: int | None, pinned: str | None = None, chunk_size: int | None = None,
        fault: Callable[[int], None] | None = None, now: datetime | None = None) -> Outcome:
    """Apply `change` to the records matching `where`, with history, as one set-based transaction.

    `expected` is the count the user confirmed, `pinned` the set's fingerprint they saw
    (crm/services/bulk/fingerprint.py): either differing from the frozen set refuses the change.
    The caller commits (or rolls back on any exception: nothing is half-applied).
    """
    return run_steps(session, rtype, actor, [(where, change)], expected=expected, pinned=pinned,
                     chunk_size=chunk_size, fault=fault, now=now)


def run_steps(session: Session, rtype: RecordType, actor: User | None, steps: list[tuple[list, Change]], *,
              lead: str = "", expected: int | None = None, pinned: str | None = None,
              chunk_size: int | None = None, fault: Callable[[int], None] | None = None,
              now: datetime | None = None) -> Outcome:
    """Apply each (where, change) step in turn under ONE batch, e.g. an import's undo: trash what it
    created, put back what it updated. The summary is `lead` + the steps' phrases joined by "and";
    `expected` (the count the user confirmed) is checked against each step's set.
    """
    now = now or utcnow()
    begin_write(session)
    batch, selected, changed, phrases = None, 0, 0, []
    for where, change in steps:
        def batch_id() -> str:  # the summary is known once every step has run (close_batch)
            nonlocal batch
            if batch is None:
                batch = open_batch(session, actor.id if actor else None, change.action, rtype.name, 0, "",
                                   change.params)
            return batch.id

        picked, n = apply_change(session, rtype, actor, where, change, batch_id, expected=expected,
                                 pinned=pinned, now=now,
                                 chunk_size=chunk_size, fault=fault)
        selected += picked
        if n:
            changed += n
            phrases.append(change.phrase(n))
    if not selected:
        raise DomainError(_("Nothing to change: the set is empty."))
    if batch is None:
        return Outcome(selected, 0, None, "")
    phrase = lead + format_list(phrases, locale=current_locale())  # "a, b and c" in the language
    # TRANSLATORS: a feed entry: who, then what they did ("Ana reassigned 12 leads to Lars").
    close_batch(session, batch, changed, _("%(actor)s %(did)s", actor=actor.name if actor else _("System"),
                                           did=phrase))
    session.expire_all()
    return Outcome(selected, changed, batch, f"{phrase[:1].upper()}{phrase[1:]}.")


def apply_change(session: Session, rtype: RecordType, actor: User | None, where: list, change: Change,
                 batch_id: Callable[[], str], *, now: datetime, expected: int | None = None,
                 pinned: str | None = None, chunk_size: int | None = None,
                 fault: Callable[[int], None] | None = None) -> tuple[int, int]:
    """One step: freeze the set, then history and UPDATE chunk by chunk; (records picked, records changed).

    `batch_id` is called once something is to change, so a caller running several steps (or
    record types, like a territory redraw) opens its one batch only when needed. The caller has
    begun the write (`begin_write`) and commits.
    """
    model = rtype.model
    picked = pick(session, model, where)
    if expected is not None and picked != expected:
        raise StaleSelection(picked, expected, rtype)
    if not picked:
        return 0, 0
    if pinned is not None and set_fingerprint(session, PICK.c.id) != pinned:
        raise StaleSelection(picked, picked, rtype)
    if change.prepare:
        change.prepare(session)
    differs = _differs(model, change)
    n = session.scalar(select(func.count()).select_from(model).where(_in_pick(model), differs))
    if n:
        _apply(session, rtype, actor, batch_id(), now, change, differs, chunk_size, fault)
        if model is Lead:  # scores read status, owner's territory and the like
            scoring.rescore(session, select(PICK.c.id))
    return picked, n


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


def scratch_table(session: Session, table: Table) -> None:
    dialect = session.get_bind().dialect
    cols = ", ".join(f"{c.name} {c.type.compile(dialect=dialect)}{' PRIMARY KEY' if c.primary_key else ''}"
                     for c in table.columns)
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table.name} ({cols})"))
    session.execute(table.delete())


def pick(session: Session, model, where: list) -> int:
    """Freeze the set (ids) in a temp table; PostgreSQL locks the rows in id order."""
    scratch_table(session, PICK)
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
    names = ["record_type", "record_id", "actor_id", "at", "kind", "field", "old", "new", "batch_id", "via"]
    tail = [literal(batch_id, String), literal(change.via, String)]
    if change.kind != "update":
        rows = select(*head, literal(None, String), literal(None, String), literal(None, String),
                      *tail).where(*where)
        session.execute(insert(HistoryEvent).from_select(names, rows))
        return
    for name, new in change.fields.items():
        column = getattr(model, name)
        rows = select(*head, literal(name, String), cast(column, String), cast(new, String),
                      *tail).where(*where, column.is_distinct_from(new))
        session.execute(insert(HistoryEvent).from_select(names, rows))
