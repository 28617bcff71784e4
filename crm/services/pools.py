"""Round-robin distribution pools: one shared pointer per pool, advanced atomically.

A pool's schedule is its eligible members (active users, under today's cap) in member order,
expanded by weight with smooth weighted round robin (A A B -> A B A). Turn t goes to
schedule[(t - 1) % len(schedule)]. Taking n turns is ONE statement,
`UPDATE pool SET cursor = cursor + n ... RETURNING cursor`, so concurrent callers never share or
skip a turn; each turn is logged in pool_turn (daily caps, weekly counts). When a member reaches
their daily cap mid-way, the remaining turns use the schedule without them (a new "segment").
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.models import User
from crm.models.mixins import utcnow
from crm.models.pools import Pool, PoolMember, PoolTurn
from crm.services import DomainError


@dataclass
class Segment:
    """Turns first_turn .. first_turn + count - 1 follow `schedule` (user ids)."""

    first_turn: int
    count: int
    schedule: list[int]

    def owner(self, turn: int) -> int:
        return self.schedule[(turn - 1) % len(self.schedule)]


@dataclass
class _Member:
    user_id: int
    weight: int
    cap: int | None
    used_today: int

    @property
    def room(self) -> float:
        return float("inf") if self.cap is None else self.cap - self.used_today


def get_pool(session: Session, pool_id: int, record_type: str | None = None) -> Pool:
    pool = session.get(Pool, pool_id)
    if pool is None:
        raise DomainError("That distribution pool does not exist.")
    if not pool.active:
        raise DomainError(f"The pool {pool.name} is switched off.")
    if record_type is not None and pool.record_type != record_type:
        raise DomainError(f"The pool {pool.name} distributes {pool.record_type}s, not {record_type}s.")
    return pool


def take_turns(session: Session, pool_id: int, n: int) -> list[int]:
    """Reserve the next n turns and return their owners' user ids, in turn order."""
    segments = reserve(session, pool_id, n)
    return [s.owner(t) for s in segments for t in range(s.first_turn, s.first_turn + s.count)]


def next_member(session: Session, pool_id: int) -> int:
    """The user id that gets the next record of this pool."""
    return take_turns(session, pool_id, 1)[0]


def reserve(session: Session, pool_id: int, n: int) -> list[Segment]:
    """Advance the pointer by n in ONE statement, then plan and log those n turns."""
    if n <= 0:
        return []
    end = session.execute(
        update(Pool).where(Pool.id == pool_id).values(cursor=Pool.cursor + n).returning(Pool.cursor)
    ).scalar_one()
    segments = plan(session, pool_id, end - n + 1, n)
    _log_turns(session, pool_id, segments, n)
    return segments


def _log_turns(session: Session, pool_id: int, segments: list[Segment], n: int) -> None:
    """One pool_turn row per turn, written set-based from a number series."""
    if n == 1:
        first = segments[0]
        session.execute(insert(PoolTurn).values(pool_id=pool_id, turn=first.first_turn,
                                                user_id=first.owner(first.first_turn), at=utcnow()))
        return
    series = select(literal(1).label("rn")).cte("series", recursive=True)
    series = series.union_all(select(series.c.rn + 1).where(series.c.rn < n))
    base = segments[0].first_turn
    session.execute(insert(PoolTurn).from_select(
        ["pool_id", "turn", "user_id", "at"],
        select(literal(pool_id), series.c.rn + (base - 1), _owner_expression(segments, series.c.rn),
               literal(utcnow()))))


def plan(session: Session, pool_id: int, first_turn: int, n: int) -> list[Segment]:
    """Who gets turns first_turn.. (n of them), without writing anything."""
    members = _members(session, pool_id)
    segments: list[Segment] = []
    turn, left = first_turn, n
    while left > 0:
        eligible = [m for m in members if m.room > 0]
        if not eligible:
            name = session.get(Pool, pool_id).name
            raise DomainError(f"Everyone in the pool {name} has reached their daily cap"
                              if members else f"The pool {name} has no active members.")
        schedule = weighted_schedule([(m.user_id, m.weight) for m in eligible])
        count = _turns_until_someone_is_full(eligible, schedule, turn, left)
        segments.append(Segment(turn, count, schedule))
        turn, left = turn + count, left - count
    return segments


def _turns_until_someone_is_full(eligible: list[_Member], schedule: list[int], turn: int, left: int) -> int:
    by_user = {m.user_id: m for m in eligible}
    if all(m.cap is None for m in eligible):
        return left
    for i in range(left):
        member = by_user[schedule[(turn + i - 1) % len(schedule)]]
        member.used_today += 1
        if member.room <= 0:
            return i + 1
    return left


def _members(session: Session, pool_id: int) -> list[_Member]:
    """Eligible members in order, with today's turns counted only where a cap makes it matter."""
    used_today = (select(func.count()).where(PoolTurn.pool_id == pool_id, PoolTurn.user_id == PoolMember.user_id,
                                             PoolTurn.at >= day_start())
                  .correlate(PoolMember).scalar_subquery())
    rows = session.execute(
        select(PoolMember.user_id, PoolMember.weight, PoolMember.daily_cap,
               case((PoolMember.daily_cap.is_(None), 0), else_=used_today))
        .join(User, User.id == PoolMember.user_id)
        .where(PoolMember.pool_id == pool_id, User.active)
        .order_by(PoolMember.position, PoolMember.id)).all()
    return [_Member(uid, max(weight, 1), cap, used) for uid, weight, cap, used in rows]


def weighted_schedule(weights: list[tuple[int, int]]) -> list[int]:
    """Smooth weighted round robin: each member appears `weight` times, spread out, in member order."""
    total = sum(w for _, w in weights)
    current = [0] * len(weights)
    schedule = []
    for _ in range(total):
        for i, (_, w) in enumerate(weights):
            current[i] += w
        best = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[best] -= total
        schedule.append(weights[best][0])
    return schedule


def day_start() -> datetime:
    now = utcnow()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# --- set-based spreading of many records -------------------------------------------------------

def spread_select(session: Session, pool_id: int, ids: Select) -> Select:
    """(record_id, owner_id) for every id in `ids`, each the next turn of the pool, ordered by id.

    Reserves as many turns as there are ids with ONE pointer update; the owners are computed in
    SQL from row_number(), so a list of 100,000 records is spread without a loop in Python.
    The result is deterministic for the same id set within the transaction.
    """
    numbered = _numbered(ids)
    n = session.scalar(select(func.count()).select_from(numbered))
    segments = reserve(session, pool_id, n)
    return select(numbered.c.id.label("record_id"), _owner_expression(segments, numbered.c.rn).label("owner_id"))


def _numbered(ids: Select):
    inner = ids.subquery()
    col = inner.c[0]
    return select(col.label("id"), func.row_number().over(order_by=col).label("rn")).subquery()


def _owner_expression(segments: list[Segment], rn):
    """CASE over the row number: which segment, then which slot of its schedule."""
    if not segments:
        return literal(None)
    base = segments[0].first_turn
    whens = []
    for s in segments:
        slot = (rn + (base - 2)) % len(s.schedule)  # row rn takes turn base + rn - 1
        pick = case({i: uid for i, uid in enumerate(s.schedule)}, value=slot)
        whens.append((rn <= s.first_turn - base + s.count, pick))
    return case(*whens)


# --- what the pool page shows -------------------------------------------------------------------

def preview(session: Session, pool: Pool, count: int = 10) -> list[User]:
    """The next `count` owners, as the pointer stands now (nothing is reserved)."""
    try:
        segments = plan(session, pool.id, pool.cursor + 1, count)
    except DomainError:
        return []
    ids = [s.owner(t) for s in segments for t in range(s.first_turn, s.first_turn + s.count)]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(set(ids))))}
    return [users[i] for i in ids]


def counts_since(session: Session, pool_id: int, since: datetime) -> dict[int, int]:
    return dict(session.execute(
        select(PoolTurn.user_id, func.count()).where(PoolTurn.pool_id == pool_id, PoolTurn.at >= since)
        .group_by(PoolTurn.user_id)).all())


def week_start() -> datetime:
    today = day_start()
    return today - timedelta(days=today.weekday())


def pools_for(session: Session, record_type: str) -> list[Pool]:
    return list(session.scalars(select(Pool).where(Pool.active, Pool.record_type == record_type)
                                .order_by(Pool.name)))


def pool_by_name(session: Session, name: str, record_type: str) -> Pool | None:
    return session.scalar(select(Pool).where(func.lower(Pool.name) == name.strip().lower(),
                                             Pool.record_type == record_type))
