"""The huey queue: a SQLite file in instance/, one per database, or Redis when REDIS_URL is set.

One queue file per DATABASE_URL, so two apps on two databases (a dev server and a demo, say)
never run each other's jobs.

`make run` starts `huey_consumer crm.tasks.huey` next to the web server; tests run tasks inline
(HUEY_IMMEDIATE).
"""
import hashlib
import os

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey
from werkzeug.utils import import_string

from crm.config import INSTANCE

DATABASE = os.environ.get("DATABASE_URL", "")
QUEUE = f"crm-{hashlib.sha1(DATABASE.encode()).hexdigest()[:10]}" if DATABASE else "crm"

if os.environ.get("REDIS_URL"):
    huey = RedisHuey(QUEUE, url=os.environ["REDIS_URL"])
else:
    INSTANCE.mkdir(exist_ok=True)
    huey = SqliteHuey(QUEUE, filename=str(INSTANCE / f"{QUEUE.replace('crm', 'huey', 1)}.db"))

_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True


@huey.task()
def run_job(job_id: str) -> None:
    """Run the service function the job names, in an app context, marking failure on error."""
    if has_app_context():
        _run(job_id)
        return
    with _app().app_context():
        _run(job_id)


def _run(job_id: str) -> None:
    from crm.extensions import db
    from crm.models import Job
    from crm.services import jobs

    job = db.session.get(Job, job_id)
    params = dict(job.params)
    func = import_string(params.pop("func"))
    try:
        func(db.session, job, **params)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("Job %s failed", job_id)
        job = db.session.get(Job, job_id)
        jobs.fail(db.session, job, f"The job stopped with an error: {error}. Work done before it is kept.")
        db.session.commit()


def _app() -> Flask:
    global _worker_app
    if _worker_app is None:
        from crm import create_app
        _worker_app = create_app()
    return _worker_app
