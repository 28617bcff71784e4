"""The huey queue: Redis when REDIS_URL is set, otherwise a SQLite file in instance/, one per database.

Settings come from the app config: the queue is built from `Config` (the environment) when this
module is imported, which is what `huey_consumer crm.tasks.huey` sees, and `init_app` points it at
the app's own settings when they differ (tests run tasks inline with HUEY_IMMEDIATE). One queue per
database URL, so two apps on two databases (a dev server and a demo, say) never run each other's
jobs. `make run` and `make serve` start the consumer next to the web server.
"""
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale, get_locale
from huey import Huey, crontab
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import update
from sqlalchemy.engine import Engine
from werkzeug.utils import import_string

from crm.config import INSTANCE, Config
from crm.i18n import _
from crm.models.mixins import utcnow

huey = Huey("crm", immediate=True)  # configured just below, before any task is queued
_worker_app: Flask | None = None


def queue_settings(config: Mapping) -> tuple[str, type, dict]:
    """(queue name, storage class, storage arguments) for a config."""
    name = f"crm-{hashlib.sha1(config['SQLALCHEMY_DATABASE_URI'].encode()).hexdigest()[:10]}"
    if config.get("REDIS_URL"):
        return name, RedisStorage, {"url": config["REDIS_URL"]}
    return name, SqliteStorage, {"filename": str(INSTANCE / f"{name.replace('crm', 'huey', 1)}.db")}


def configure(config: Mapping) -> None:
    """Point the queue at `config`'s Redis or SQLite file; a no-op when it already is."""
    name, storage_class, kwargs = queue_settings(config)
    immediate = bool(config.get("HUEY_IMMEDIATE"))
    if (huey.name, huey.storage_class, huey.storage_kwargs, huey.immediate) == (name, storage_class, kwargs, immediate):
        return
    if storage_class is SqliteStorage and not immediate:
        INSTANCE.mkdir(exist_ok=True)
    huey.name, huey.storage_class, huey.storage_kwargs = name, storage_class, kwargs
    huey._immediate = immediate  # set directly: the setter only rebuilds storage when it flips
    huey.storage = huey.create_storage()


configure(vars(Config))


def init_app(app: Flask) -> None:
    configure(app.config)


def ping() -> None:
    """Raise when the queue's storage does not answer (for /readyz)."""
    storage = huey.storage
    if isinstance(storage, RedisStorage):
        storage.conn.ping()
    else:
        storage.queue_size()


@huey.task()
def run_job(job_id: str) -> None:
    """Run the service function the job names, in an app context, marking failure on error."""
    _in_app_context(_run, job_id)


def _run(job_id: str) -> None:
    from crm.extensions import db
    from crm.models import Job, User
    from crm.services import jobs

    job = db.session.get(Job, job_id)
    params = dict(job.params)
    func = import_string(params.pop("func"))
    jobs.start(db.session, job)
    db.session.commit()
    # Its messages, bell notification and email speak the language of whoever started it.
    with force_locale(_starter_locale(db.session.get(User, job.actor_id) if job.actor_id else None)):
        try:
            with _heartbeat(db.engine, job_id):
                func(db.session, job, **params)
                db.session.commit()
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("Job %s failed", job_id)
            job = db.session.get(Job, job_id)
            jobs.fail(db.session, job, _("The job stopped with an error: %(error)s. Work done before it is kept.",
                                         error=error))
            db.session.commit()


def _starter_locale(user) -> str:
    """The user's chosen language; else the request's (a job run inline), else the default."""
    if user is not None and user.locale:
        return user.locale
    return str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "en"))


@contextmanager
def _heartbeat(engine: Engine, job_id: str) -> Iterator[None]:
    """While the job runs, a thread marks it alive every HEARTBEAT_EVERY on a connection of its own
    (the job's own transaction may be long). Inline (HUEY_IMMEDIATE) there is no worker to die."""
    if huey.immediate:
        yield
        return
    from crm.models.jobs import HEARTBEAT_EVERY, Job

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                with engine.begin() as conn:
                    conn.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                                 .values(heartbeat_at=utcnow()))
            except Exception:  # a busy database skips a beat; STALE_AFTER allows many
                continue

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@huey.periodic_task(crontab(minute="*"))
def reap_dead_jobs() -> None:
    """Every minute in the consumer: jobs whose worker died are marked failed (crm/services/jobs.py)."""
    from crm.extensions import db
    from crm.services import jobs

    with _app().app_context():
        jobs.reap_dead(db.session)


@huey.periodic_task(crontab(minute="17", hour="3"))
def recompute_lead_scores() -> None:
    """Every night: scores that read time ("activity in the last 7 days") follow the calendar."""
    from crm.extensions import db
    from crm.services import scoring

    with _app().app_context():
        scoring.recompute_all(db.session)
        db.session.commit()


@huey.on_startup()
def reap_on_startup() -> None:
    """A consumer starting again (after a crash, say) first settles the jobs its predecessor left."""
    reap_dead_jobs.call_local()


def _in_app_context(work: Callable[[object], None], arg) -> None:
    """Inline (tests, or a task run from a request) in the current app; in the consumer, in its app."""
    if has_app_context():
        work(arg)
        return
    with _app().app_context():
        work(arg)


def _app() -> Flask:
    global _worker_app
    if _worker_app is None:
        from crm import create_app
        _worker_app = create_app()
    return _worker_app


@huey.task()
def deliver_webhook(delivery_id: int) -> None:
    """One attempt at a webhook delivery, on a session of its own; a failure is scheduled again
    with exponential backoff (crm/services/webhooks.py)."""
    _in_app_context(_deliver, delivery_id)


def _deliver(delivery_id: int) -> None:
    from sqlalchemy.orm import Session

    from crm.extensions import db
    from crm.services import webhooks

    with Session(db.engine) as session:
        wait = webhooks.deliver(session, delivery_id)
        session.commit()
    if wait is not None:
        deliver_webhook.schedule((delivery_id,), delay=wait)


def _enqueue_webhook(delivery_id: int, delay: int) -> None:
    """After a commit: queue the delivery; never let it fail the request that made the change."""
    try:
        deliver_webhook.schedule((delivery_id,), delay=delay) if delay else deliver_webhook(delivery_id)
    except Exception:
        current_app.logger.exception("Could not queue webhook delivery %s", delivery_id)


def _wire_webhooks() -> None:
    from crm.services import webhooks
    webhooks.enqueue = _enqueue_webhook


_wire_webhooks()
