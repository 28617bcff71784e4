"""Lead score recompute over every lead (five rules, three of them on activities) against raw UPDATEs.

The app side is `scoring.recompute_all` (the rules read, the CASE sum built, id-range chunks of 20,000)
and the commit. Two floors on the same rows: the plain `UPDATE lead SET score = 0` (the issue's "raw
UPDATE": what writing one integer to every lead costs) and the same rules as one hand-written UPDATE.
"""
from datetime import timedelta

from sqlalchemy import text

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import ScoringRule
from crm.models.mixins import utcnow
from crm.services import scoring

RULES = (("source", "Web form", 25), ("activity_within", "7", 20), ("no_activity_for", "30", -10),
         ("value_min", "10000", 15), ("overdue_activity", "", -5))


@bench_row
def score_recompute(bench: Bench) -> list[Result]:
    with bench.app.app_context():
        db.session.add_all(ScoringRule(kind=k, value=v, points=p) for k, v, p in RULES)
        db.session.commit()
        try:
            app_s = timed(lambda: (scoring.recompute_all(db.session), db.session.commit()), repeat=3)
            plain_s = timed(lambda: _by_hand("UPDATE lead SET score = 0"), repeat=3)
            same_s = timed(lambda: _by_hand(_same_rules()), repeat=3)
        finally:
            db.session.execute(text("DELETE FROM scoring_rule"))
            _by_hand("UPDATE lead SET score = 0")
    return [Result(bench.leads, "lead score recompute (5 rules) vs UPDATE lead SET score = 0", app_s, plain_s,
                   "chunks of 20,000"),
            Result(bench.leads, "lead score recompute (5 rules) vs the same rules by hand", app_s, same_s,
                   "one UPDATE, no chunks")]


def _same_rules() -> str:
    now = utcnow()
    week, month = (f"'{(now - timedelta(days=d)).isoformat(sep=' ')}'" for d in (7, 30))
    done = "a.lead_id = lead.id AND a.done AND COALESCE(a.done_at, a.created_at) >= {}"
    total = " + ".join((
        "CASE WHEN lead.source = 'Web form' THEN 25 ELSE 0 END",
        f"CASE WHEN EXISTS (SELECT 1 FROM activity a WHERE {done.format(week)}) THEN 20 ELSE 0 END",
        f"CASE WHEN NOT EXISTS (SELECT 1 FROM activity a WHERE {done.format(month)}) THEN -10 ELSE 0 END",
        "CASE WHEN lead.value >= 10000 THEN 15 ELSE 0 END",
        f"CASE WHEN EXISTS (SELECT 1 FROM activity a WHERE a.lead_id = lead.id AND NOT a.done "
        f"AND a.due_at < '{now.isoformat(sep=' ')}') THEN -5 ELSE 0 END"))
    clamp = "max(0, min(100, {}))" if db.engine.dialect.name == "sqlite" else "greatest(0, least(100, {}))"
    return f"UPDATE lead SET score = {clamp.format(total)}"


def _by_hand(sql: str) -> None:
    db.session.execute(text(sql))
    db.session.commit()
