"""Things attached to a lead, deal, contact or organization: activities, notes, emails."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from crm.extensions import db
from crm.models.mixins import utcnow
from crm.models.users import User

ACTIVITY_KINDS = ("call", "meeting", "task", "email")


class Attached:
    """Foreign keys to the record an item belongs to (one or several, e.g. a deal and its contact)."""

    @declared_attr
    def lead_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def deal_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("deal.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def contact_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def organization_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)


class Activity(Attached, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="task")
    subject: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    done: Mapped[bool] = mapped_column(default=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)  # when it was marked done (lead scores)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User | None] = relationship()


class Note(Attached, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class EmailMessage(Attached, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    sender: Mapped[str] = mapped_column(String(254), default="")
    recipient: Mapped[str] = mapped_column(String(254), default="")
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
