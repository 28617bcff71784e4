"""Round-robin distribution pools: one shared pointer per pool, advanced atomically.

A pool's schedule is its eligible members (active users who may open the pool's record type,
under today's cap) in member order, expanded by weight with smooth weighted round robin
(A A B -> A B A). The pool stores a *rotation*: turn `rotation_turn` goes to rotation[0], the next
to rotation[1], and so on around. When the eligible members change (someone joins, leaves, is
moved, re-weighted, switched off or reaches a cap), the next reservation starts a new rotation
with the person who was next in line, so nobody loses or gains a turn by it and counts stay within
one of each other (equal weights).

Taking n turns is ONE statement, `UPDATE pool SET cursor = cursor + n ... RETURNING cursor,
rotation`, so concurrent callers never share or skip a turn, and the rotation a caller continues
is the one the previous caller left (the UPDATE holds the pool row until commit). Each turn is
logged in pool_turn (daily caps, weekly counts).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models import Team, User
from crm.models.mixins import utcnow
from crm.models.pools import Pool, PoolMember, PoolTurn
from crm.services import DomainError
from crm.services.record_types import RECORD_TYPES
from crm.services.settings import works_with


@dataclass(frozen=True)
class Rotation:
    """Turn `turn` goes to order[0], turn + 1 to order[1], ... wrapping around (user ids)."""

    turn: int
    order: tuple[int, ...]

    def owner(self, turn: int) -> int:
        return self.order[(turn - self.turn) % len(self.order)]

    def starting_at(self, turn: int) -> "Rotation":
        """The same assignment of turns, written from `turn` on."""
        k = (turn - self.turn) % len(self.order)
        return Rotation(turn, self.order[k:] + self.order[:k])

    def same_as(self, other: "Rotation | None") -> bool:
        """Both give every turn to the same person."""
        return (other is not None and len(other.order) == len(self.order)
                and self.starting_at(other.turn).order == other.order)


@dataclass
class Segment:
    """Turns first_turn .. first_turn + count - 1 follow `rotation`."""

    first_turn: int
    count: int
    rotation: Rotation

    def owner(self, turn: int) -> int:
        return self.rotation.owner(turn)


@dataclass
class _Member:
    user_id: int
    weight: int
    cap: int | None
    used_today: int

    @property
    def room(self) -> float:
        return float("inf") if self.cap is None else self.cap - self.used_today


def get_pool(session: Session, pool_id: int, record_type: str | tuple[str, ...] | None = None) -> Pool:
    """An active pool that distributes `record_type` (or one of them)."""
    pool = session.get(Pool, pool_id)
    if pool is None:
        raise DomainError(_l("That distribution pool does not exist."))
    if not pool.active:
        raise DomainError(_l("The pool %(name)s is switched off.", name=pool.name))
    wanted = (record_type,) if isinstance(record_type, str) else record_type
    if wanted is not None and pool.record_type not in wanted:
        raise DomainError(_l("The pool %(name)s distributes %(kind)s, not %(other)s.", name=pool.name,
                             kind=_plural(pool.record_type), other=_plural(wanted[0])))
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
    end, rotation_turn, order = session.execute(
        update(Pool).where(Pool.id == pool_id).values(cursor=Pool.cursor + n)
        .returning(Pool.cursor, Pool.rotation_turn, Pool.rotation)).one()
    stored = Rotation(rotation_turn, tuple(order)) if order else None
    segments, rotation = plan(session, pool_id, end - n + 1, n, stored)
    if not rotation.same_as(stored):  # the members changed: remember who is next from now on
        session.execute(update(Pool).where(Pool.id == pool_id)
                        .values(rotation_turn=rotation.turn, rotation=list(rotation.order))
                        .execution_options(synchronize_session=False))
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


def plan(session: Session, pool_id: int, first_turn: int, n: int,
         stored: Rotation | None) -> tuple[list[Segment], Rotation]:
    """Who gets turns first_turn.. (n of them), continuing `stored`, without writing anything.

    Returns the segments and the rotation the last of them follows.
    """
    pool = session.get(Pool, pool_id)
    members = _members(session, pool)
    segments: list[Segment] = []
    rotation, turn, left = stored, first_turn, n
    while left > 0:
        eligible = [m for m in members if m.room > 0]
        if not eligible:
            raise DomainError(_l("Everyone in the pool %(name)s has reached their daily cap", name=pool.name)
                              if members else _l("The pool %(name)s has no active members who can take %(kind)s.",
                                                 name=pool.name, kind=_plural(pool.record_type)))
        rotation = _continue(rotation, weighted_schedule([(m.user_id, m.weight) for m in eligible]), turn)
        count = _turns_until_someone_is_full(eligible, rotation, turn, left)
        segments.append(Segment(turn, count, rotation))
        turn, left = turn + count, left - count
    return segments, rotation


def _continue(rotation: Rotation | None, schedule: list[int], turn: int) -> Rotation:
    """The rotation from `turn` on: the stored one while the schedule is the same, else the new
    schedule starting with whoever was next in line (or the first still there after them)."""
    if rotation is None:  # a pool's first turn: turn t goes to schedule[t - 1]
        return Rotation(1, tuple(schedule)).starting_at(turn)
    current = rotation.starting_at(turn)
    if _is_cyclic_shift(current.order, tuple(schedule)):
        return current
    staying = set(schedule)
    next_in_line = next((uid for uid in current.order if uid in staying), None)
    start = schedule.index(next_in_line) if next_in_line is not None else 0
    return Rotation(turn, tuple(schedule[start:] + schedule[:start]))


def _is_cyclic_shift(order: tuple[int, ...], schedule: tuple[int, ...]) -> bool:
    return len(order) == len(schedule) and any(order == schedule[k:] + schedule[:k] for k in range(len(schedule)))


def _turns_until_someone_is_full(eligible: list[_Member], rotation: Rotation, turn: int, left: int) -> int:
    by_user = {m.user_id: m for m in eligible}
    if all(m.cap is None for m in eligible):
        return left
    for i in range(left):
        member = by_user[rotation.owner(turn + i)]
        member.used_today += 1
        if member.room <= 0:
            return i + 1
    return left


def _members(session: Session, pool: Pool) -> list[_Member]:
    """Eligible members in order (active, may open the pool's record type), with today's turns
    counted only where a cap makes it matter."""
    used_today = (select(func.count()).where(PoolTurn.pool_id == pool.id, PoolTurn.user_id == PoolMember.user_id,
                                             PoolTurn.at >= day_start())
                  .correlate(PoolMember).scalar_subquery())
    rows = session.execute(
        select(PoolMember.user_id, PoolMember.weight, PoolMember.daily_cap,
               case((PoolMember.daily_cap.is_(None), 0), else_=used_today))
        .join(User, User.id == PoolMember.user_id)
        .where(PoolMember.pool_id == pool.id, User.active, works_with(session, pool.record_type))
        .order_by(PoolMember.position, PoolMember.id)).all()
    return [_Member(uid, max(weight, 1), cap, used) for uid, weight, cap, used in rows]


def can_take_records(session: Session, pool: Pool) -> bool:
    """Someone in the pool can be handed a record (active, and may open the pool's record type)."""
    return bool(_members(session, pool))


def skipped_members(session: Session, pool: Pool) -> dict[int, str]:
    """Members the pool passes over, by user id, with the reason the pool page shows."""
    able = {m.user_id for m in _members(session, pool)}
    reasons = {}
    for m in pool.members:
        if m.user_id in able:
            continue
        if not m.user.active:
            reasons[m.user_id] = _l("inactive")
        else:
            team = session.get(Team, m.user.team_id) if m.user.team_id else None
            kind = _plural(pool.record_type)
            reasons[m.user_id] = (_l("cannot open %(kind)s: they are switched off for team %(team)s",
                                     kind=kind, team=team.name) if team is not None and not team.leads_enabled
                                  else _l("cannot open %(kind)s: they are switched off", kind=kind))
    return reasons


def _plural(record_type: str) -> str:
    return RECORD_TYPES[record_type].plural


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
        order = s.rotation.starting_at(s.first_turn).order
        slot = (rn + (base - 1 - s.first_turn)) % len(order)  # row rn takes turn base + rn - 1
        pick = case({i: uid for i, uid in enumerate(order)}, value=slot)
        whens.append((rn <= s.first_turn - base + s.count, pick))
    return case(*whens)


# --- what the pool page shows -------------------------------------------------------------------

def preview(session: Session, pool: Pool, count: int = 10) -> list[User]:
    """The next `count` owners, as the pointer stands now (nothing is reserved)."""
    stored = Rotation(pool.rotation_turn, tuple(pool.rotation)) if pool.rotation else None
    try:
        segments, _rotation = plan(session, pool.id, pool.cursor + 1, count, stored)
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
