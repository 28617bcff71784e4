"""The lead score: the sum of the admins' scoring rules that hold for a lead, kept between 0 and 100.

The score is a column (sortable, filterable, indexed) written by one UPDATE of a CASE-per-rule
sum: for every lead by id-range chunks when the rules change (and every night, since "activity in
the last 7 days" ages), for a few leads when they or their activities change. Score moves are not
history: the score is derived, and `explain` says where it comes from.
"""
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, Select, case, func, literal, select, update
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models import Lead, ScoringRule, User
from crm.models.mixins import utcnow
from crm.params import shown, to_int
from crm.services import DomainError, PermissionDenied
from crm.services import lead_conditions as conditions

CHUNK = 20_000
MAX_POINTS = 100


def rules(session: Session) -> list[ScoringRule]:
    """The scoring rules, in the order they were added."""
    return list(session.scalars(select(ScoringRule).order_by(ScoringRule.id)))


def score_expression(session: Session, now: datetime | None = None):
    """SQL for a lead's score under the current rules (0 without rules)."""
    now = now or utcnow()
    kinds = conditions.custom_kinds(session)
    parts = [case((conditions.predicate(r.kind, r.value, now, kinds), r.points), else_=0) for r in rules(session)]
    if not parts:
        return literal(0, Integer)
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    if session.get_bind().dialect.name == "sqlite":  # SQLite's two-argument min/max are scalar
        return func.max(0, func.min(MAX_POINTS, total))
    return func.greatest(0, func.least(MAX_POINTS, total))


def recompute_all(session: Session, *, now: datetime | None = None, chunk: int = CHUNK) -> None:
    """Every lead's score, set-based, one id range at a time (each a short write)."""
    expression = score_expression(session, now)
    low, high = session.execute(select(func.min(Lead.id), func.max(Lead.id))).one()
    if low is None:
        return
    for start in range(low, high + 1, chunk):
        _write(session, expression, Lead.id.between(start, start + chunk - 1))


def rescore(session: Session, ids: Iterable[int] | Select) -> None:
    """The score of some leads (ids, or a SELECT of ids), after they or their activities changed."""
    ids = ids if isinstance(ids, Select) else sorted(set(ids))
    if isinstance(ids, list) and not ids:
        return
    _write(session, score_expression(session), Lead.id.in_(ids))


def rescore_record(session: Session, lead: Lead) -> None:
    """One lead's score, and the object in the session follows."""
    rescore(session, [lead.id])
    session.expire(lead, ["score"])


def _write(session: Session, expression, where) -> None:
    # updated_at stays: a score move is not an edit (the list's "Updated" and caches ignore it).
    table = Lead.__table__
    session.execute(update(table).where(where).values(score=expression, updated_at=table.c.updated_at))


def explain(session: Session, lead: Lead, now: datetime | None = None) -> list[tuple[int, str]]:
    """The rules that hold for the lead, as (points, words): [(25, "source Web form"), ...]."""
    now = now or utcnow()
    kinds = conditions.custom_kinds(session)
    found = rules(session)
    if not found:
        return []
    holds = session.execute(select(*(case((conditions.predicate(r.kind, r.value, now, kinds), True), else_=False)
                                      for r in found)).where(Lead.id == lead.id)).one()
    return [(r.points, conditions.describe(session, r.kind, r.value)) for r, held in zip(found, holds) if held]


def add_rule(session: Session, actor: User, kind: str, value: str, points: str) -> ScoringRule:
    """A new rule; every lead's score follows at once."""
    _guard(actor)
    rule = ScoringRule(kind=kind, value=conditions.clean_value(session, kind, value), points=_points(points))
    session.add(rule)
    session.flush()
    recompute_all(session)
    return rule


def delete_rule(session: Session, actor: User, rule: ScoringRule) -> None:
    """Remove a rule; every lead's score follows at once."""
    _guard(actor)
    session.delete(rule)
    session.flush()
    recompute_all(session)


def _points(raw: str) -> int:
    raw = (raw or "").strip()
    number = to_int(raw.removeprefix("-"), high=MAX_POINTS)
    if number is None or number == 0:
        raise DomainError(_l("Points must be a whole number from -100 to 100 (not 0), not %(value)s.",
                             value=shown(raw)))
    return -number if raw.startswith("-") else number


def _guard(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_l("Only admins can change the scoring rules."))
