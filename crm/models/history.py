"""Append-only history: one HistoryEvent per changed field of a record, grouped by batch."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.mixins import utcnow
from crm.models.users import User


class HistoryEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # create | update | delete | restore | convert | merge ...
    field: Mapped[str | None] = mapped_column(String(60))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id"))
    via: Mapped[str | None] = mapped_column(String(40))  # what chose the new value: "pool:3"

    actor: Mapped[User | None] = relationship()

    # A batch's own events by record and field: undo and "changed since" look each record up in
    # the batch (a probe, whatever the size of the history), and batch_id alone uses its prefix.
    __table_args__ = (Index("ix_history_event_record", "record_type", "record_id"),
                      Index("ix_history_event_batch", "batch_id", "record_type", "record_id", "field"))


class Batch(db.Model):
    """One multi-record operation (mass change, import, merge, bulk conversion): one feed entry."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(24))  # reassign | change | delete | import | merge ...
    record_type: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)  # once every record is undone

    actor: Mapped[User | None] = relationship()


class UndoneRecord(db.Model):
    """A record of a batch that an Undo covered: the batch stays undoable for the others (records
    the undoing user could not change, or left alone because they changed again since)."""

    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), primary_key=True)
    record_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
