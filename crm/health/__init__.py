"""Probes for load balancers and orchestrators: `/healthz` (this process answers) and `/readyz`
(it can reach the database and the job queue). JSON, no login, no rate limit, no session."""
from flask import Blueprint
from sqlalchemy import text

from crm import tasks
from crm.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """The process is up; says nothing of its dependencies (a restart would not fix them)."""
    return {"status": "ok"}


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Ready for traffic: the database and the job queue answer; 503 naming what does not."""
    checks = {"database": _check(lambda: db.session.execute(text("SELECT 1"))), "queue": _check(tasks.ping)}
    ready = all(result == "ok" for result in checks.values())
    return {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503


def _check(probe) -> str:
    try:
        probe()
    except Exception as error:  # any failure means "not ready"; the reason goes to the caller and the log
        db.session.rollback()
        return f"error: {type(error).__name__}"
    return "ok"
