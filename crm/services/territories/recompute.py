"""Keeping records in their territory: which records a change moves, applied through the bulk engine.

Each record type's moves go into a scratch table; one engine step then sets the territory (and,
entering an auto-assigning territory, the owner and team) with a history event per changed field,
all under the caller's one batch (one feed entry).
"""
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Column, Integer, Table, case, func, insert, literal, select
from sqlalchemy.orm import Session

from crm.models import Batch, User
from crm.models.mixins import utcnow
from crm.services import history
from crm.services.bulk.engine import SCRATCH, Change, apply_change, begin_write, scratch_table
from crm.services.record_types import RECORD_TYPES, RecordType
from crm.services.territories.index import TerritoryIndex, build_index

CHUNK = 5_000
MOVES = Table("territory_move", SCRATCH, Column("id", Integer, primary_key=True), Column("territory_id", Integer),
              Column("owner_id", Integer), Column("team_id", Integer))


@dataclass
class Recomputed:
    moved: int = 0        # records whose territory changed
    reassigned: int = 0   # of those, records that got the territory's owner
    rehomed: int = 0      # of those, records now in a territory (not outside every one)


class Run:
    """One territory change: its actor, time and batch, opened when the first record changes."""

    def __init__(self, session: Session, actor: User | None, action: str = "territories"):
        self.session, self.actor, self.action, self.now = session, actor, action, utcnow()
        self.batch: Batch | None = None
        begin_write(session)

    def batch_id(self) -> str:
        if self.batch is None:
            self.batch = history.open_batch(self.session, self.actor.id if self.actor else None, self.action,
                                            "mixed", 0, "")
        return self.batch.id

    def close(self, count: int, summary: str) -> None:
        if self.batch is not None:
            history.close_batch(self.session, self.batch, count, summary)


def recompute_territories(session: Session, actor: User | None = None, *,
                          bounds: tuple[float, float, float, float] | None = None,
                          only_territory: int | None = None) -> Recomputed:
    """Set every record's territory from its coordinates: one batch, a history event per change.

    `bounds` (west, south, east, north) and `only_territory` narrow the work to the records a
    changed territory can affect: those in its box and those that were in it.
    """
    run = Run(session, actor)
    result = recompute(run, bounds, only_territory)
    run.close(result.moved, f"{actor.name if actor else 'System'} recomputed territories: "
                            f"{result.moved:,} records moved, {result.reassigned:,} reassigned")
    return result


def recompute(run: Run, bounds, only_territory: int | None, exclude: int | None = None) -> Recomputed:
    """Move the records whose territory differs from their coordinates' (`exclude`: a territory about to go)."""
    index = build_index(run.session, exclude)
    teams = dict(run.session.execute(select(User.id, User.team_id)).all())
    result = Recomputed()
    for rtype in RECORD_TYPES.values():
        for rows in _chunks(run.session, rtype, bounds, only_territory):
            moves = _moves(index, rows)
            if moves:
                _apply(run, rtype, moves, index, teams, result)
    return result


def hand_over(run: Run, territory_id: int, owner: User) -> int:
    """Every record in the territory to its owner (and the owner's team); returns how many changed."""
    count = 0
    for rtype in RECORD_TYPES.values():
        model = rtype.model
        change = Change(run.action, {"owner_id": literal(owner.id, Integer),
                                     "team_id": literal(owner.team_id, Integer)})
        count += apply_change(run.session, rtype, run.actor, [model.territory_id == territory_id], change,
                              run.batch_id, now=run.now)[1]
    return count


def _chunks(session: Session, rtype: RecordType, bounds, only_territory):
    """(id, lat, lng, territory_id) rows in id order, CHUNK at a time (keyset paging)."""
    model = rtype.model
    stmt = select(model.id, model.lat, model.lng, model.territory_id)
    if bounds is not None:
        west, south, east, north = bounds
        inside = model.lat.between(south, north) & model.lng.between(west, east)
        stmt = stmt.where(inside | (model.territory_id == only_territory) if only_territory else inside)
    last = 0
    while True:
        rows = session.execute(stmt.where(model.id > last).order_by(model.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _moves(index: TerritoryIndex, rows) -> dict[int, int | None]:
    """Record id -> new territory index (into index.ids, None: outside every territory) for those that change."""
    located = [r for r in rows if r[1] is not None and r[2] is not None]
    hits = index.lookup(np.array([r[1] for r in located]), np.array([r[2] for r in located]))
    target = {r[0]: h for r, h in zip(located, hits)}
    moves: dict[int, int | None] = {}
    for rid, _lat, _lng, old in rows:
        hit = target.get(rid)
        if (index.ids[hit] if hit is not None else None) != old:
            moves[rid] = hit
    return moves


def _apply(run: Run, rtype: RecordType, moves: dict[int, int | None], index: TerritoryIndex,
           teams: dict[int, int | None], result: Recomputed) -> None:
    """One engine step for a chunk's moves: territory, and owner/team where an auto-assigning one takes them."""
    session, model = run.session, rtype.model
    scratch_table(session, MOVES)
    rows = []
    for rid, hit in moves.items():
        owner = index.owners[hit] if hit is not None else None
        rows.append({"id": rid, "territory_id": index.ids[hit] if hit is not None else None,
                     "owner_id": owner, "team_id": teams.get(owner)})
    session.execute(insert(MOVES), rows)

    def moved(column):
        return select(column).where(MOVES.c.id == model.id).scalar_subquery()

    handed = moved(MOVES.c.owner_id)
    result.reassigned += session.scalar(select(func.count()).select_from(MOVES).join(model, model.id == MOVES.c.id)
                                        .where(MOVES.c.owner_id.is_not(None),
                                               model.owner_id.is_distinct_from(MOVES.c.owner_id)))
    change = Change(run.action, {"territory_id": moved(MOVES.c.territory_id),
                                 "owner_id": func.coalesce(handed, model.owner_id),
                                 "team_id": case((handed.is_not(None), moved(MOVES.c.team_id)), else_=model.team_id)})
    result.moved += apply_change(session, rtype, run.actor, [model.id.in_(select(MOVES.c.id))], change,
                                 run.batch_id, now=run.now)[1]
    result.rehomed += sum(1 for row in rows if row["territory_id"] is not None)

