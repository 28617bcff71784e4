"""Background jobs: a Job row holds progress; the work runs in huey (inline in tests).

A job function is a plain service `fn(session, job, **params)` named by its dotted path, so
services need no knowledge of the queue. It reports progress with `progress()` and commits its
own chunks; `finish()` notifies the user in the app and by mail. A job that writes under one batch
says so with `record_batch()` as soon as it opens it.

Workers die (kill -9, out of memory, a restart): the worker's heartbeat (crm/tasks.py) stops, the
job shows as stopped at once (`Job.stopped`), and `reap_dead()` marks it failed, puts the batch's
real count on it (what was committed before the death stays, undoable from the batch page) and
tells the user which.
"""
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Batch, HistoryEvent, Job, Notification, User
from crm.models.jobs import STALE_AFTER
from crm.models.mixins import utcnow
from crm.mail import send_mail
from crm.services.history import close_batch
from crm.services.record_types import RECORD_TYPES
from crm.services.wording import count_phrase

# What each kind of job is called in its notification's email subject.
JOB_KINDS = {"mass_change": _l("Mass change"), "undo": _l("Undo"), "import": _l("Import"),
             "dry_run": _l("Dry run"), "deal_conversion": _l("Deal conversion")}

def create_job(session: Session, kind: str, actor: User | None, func: str, total: int = 0,
               **params) -> Job:
    reap_dead(session)
    job = Job(id=str(uuid.uuid4()), kind=kind, actor_id=actor.id if actor else None, total=total,
              params={"func": func, **params})
    session.add(job)
    session.commit()
    return job


def start(session: Session, job: Job) -> None:
    """The worker took the job: running, alive now."""
    job.status, job.heartbeat_at = "running", utcnow()


def progress(session: Session, job: Job, done: int, message: str = "") -> None:
    job.status, job.done, job.heartbeat_at = "running", done, utcnow()
    if message:
        job.message = message


def record_batch(session: Session, job: Job, batch: Batch) -> None:
    """The batch the job writes under: if its worker dies, that is where its partial effects are."""
    job.result = {**(job.result or {}), "batch_id": batch.id}
    job.link = job.link or f"/bulk/{batch.id}"


def finish(session: Session, job: Job, message: str, link: str = "", result: dict | None = None) -> None:
    job.status, job.message, job.link, job.finished_at = "done", message, link, utcnow()
    job.done = max(job.done, job.total)
    job.result = result or {}
    _notify(session, job)


def fail(session: Session, job: Job, message: str) -> None:
    job.status, job.message, job.finished_at = "failed", message, utcnow()
    _notify(session, job)


def reap_dead(session: Session, now: datetime | None = None) -> int:
    """Mark failed every running job whose worker stopped beating, saying what it left; commits."""
    now = now or utcnow()
    dead = session.scalars(select(Job).where(Job.status == "running", func.coalesce(
        Job.heartbeat_at, Job.created_at) < now - STALE_AFTER).with_for_update(skip_locked=True)).all()
    for job in dead:
        fail(session, job, _death_notice(session, job))
    if dead:
        session.commit()
    return len(dead)


def _death_notice(session: Session, job: Job) -> str:
    """What the user reads: where it stopped, and what stays (its batch, recounted) or that nothing changed."""
    what = job.kind.replace("_", " ")
    head = f"The {what} stopped at {job.done:,} of {job.total:,}: the worker running it died."
    batch = session.get(Batch, (job.result or {}).get("batch_id") or "")
    changed = session.scalar(select(func.count(func.distinct(HistoryEvent.record_id))).where(
        HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == batch.record_type)) if batch else 0
    if not changed:
        return f"{head} Nothing was changed."
    records = count_phrase(changed, RECORD_TYPES[batch.record_type]) if batch.record_type in RECORD_TYPES else f"{changed:,} records"
    close_batch(session, batch, changed, f"{batch.summary} (stopped part-way: {records})".strip())
    job.link = f"/bulk/{batch.id}"
    return f"{head} The {records} it changed before are kept in one batch: open it to check or undo them."


def _notify(session: Session, job: Job) -> None:
    """The bell and an email for whoever started the job, in their language (the job runs in it:
    crm/tasks.py)."""
    if job.actor_id is None:
        return
    session.add(Notification(user_id=job.actor_id, text=job.message, link=job.link))
    user = session.get(User, job.actor_id)
    kind = JOB_KINDS.get(job.kind, job.kind)
    subject = (_("%(job)s done", job=kind) if job.status == "done" else
               _("%(job)s failed", job=kind))
    send_mail(user.email, subject, job.message)
