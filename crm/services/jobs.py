"""Background jobs: a Job row holds progress; the work runs in huey (inline in tests).

A job function is a plain service `fn(session, job, **params)` named by its dotted path, so
services need no knowledge of the queue. It reports progress with `progress()` and commits its
own chunks; `finish()` notifies the user in the app and by mail.
"""
import uuid

from sqlalchemy.orm import Session

from crm.models import Job, Notification, User
from crm.models.mixins import utcnow
from crm.mail import send_mail


def create_job(session: Session, kind: str, actor: User | None, func: str, total: int = 0,
               **params) -> Job:
    job = Job(id=str(uuid.uuid4()), kind=kind, actor_id=actor.id if actor else None, total=total,
              params={"func": func, **params})
    session.add(job)
    session.commit()
    return job


def progress(session: Session, job: Job, done: int, message: str = "") -> None:
    job.status, job.done = "running", done
    if message:
        job.message = message


def finish(session: Session, job: Job, message: str, link: str = "", result: dict | None = None) -> None:
    job.status, job.message, job.link, job.finished_at = "done", message, link, utcnow()
    job.done = max(job.done, job.total)
    job.result = result or {}
    _notify(session, job)


def fail(session: Session, job: Job, message: str) -> None:
    job.status, job.message, job.finished_at = "failed", message, utcnow()
    _notify(session, job)


def _notify(session: Session, job: Job) -> None:
    if job.actor_id is None:
        return
    session.add(Notification(user_id=job.actor_id, text=job.message, link=job.link))
    user = session.get(User, job.actor_id)
    send_mail(user.email, f"{job.kind.replace('_', ' ').capitalize()} {job.status}", job.message)
