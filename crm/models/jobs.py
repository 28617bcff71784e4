from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.config import Config
from crm.extensions import db
from crm.models.mixins import utcnow


# A running job's worker writes a heartbeat every HEARTBEAT_EVERY (crm/tasks.py); one silent for
# STALE_AFTER has died (killed, out of memory, machine restarted).
HEARTBEAT_EVERY = timedelta(seconds=Config.JOB_HEARTBEAT_SECONDS)
STALE_AFTER = timedelta(seconds=Config.JOB_STALE_SECONDS)


class Job(db.Model):
    """A background job's progress, polled by the page that started it."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)  # the worker's last sign of life

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else int(100 * self.done / self.total) if self.total else 0

    @property
    def stopped(self) -> bool:
        """Running, but its worker has given no sign of life for STALE_AFTER: the worker died."""
        last = self.heartbeat_at or self.created_at
        return self.status == "running" and last is not None and last < utcnow() - STALE_AFTER

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed") or self.stopped


class Notification(db.Model):
    """An in-app message for one user (a finished job, an assignment)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
