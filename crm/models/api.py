"""API tokens, integration clients and idempotency keys of the REST API (crm/api/v1)."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.mixins import utcnow
from crm.models.users import User

READ, READ_WRITE = "read", "read-write"


class ApiClient(db.Model):
    """A named integration ("Support desk", "Website"): its own token, and the owner given to
    what it creates without one (a user or pool choice per record type, crm/services/owners.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    default_owners: Mapped[dict] = mapped_column(JSON, default=dict)  # {"lead": "pool:2", ...}
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token: shown once, stored as its SHA-256 digest; acts as its user."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(16), default=READ_WRITE)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    client: Mapped[ApiClient | None] = relationship()


class ApiCall(db.Model):
    """One API request of a token (kept for the Integrations page: recent calls and errors)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class IdempotencyKey(db.Model):
    """The first response to a POST with an `Idempotency-Key`: a retry gets it again."""

    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


WEBHOOK_EVENTS = ("record.created", "record.updated", "record.deleted", "record.restored", "record.converted",
                  "record.merged", "batch.finished")


class WebhookSubscription(db.Model):
    """An admin's subscription of a URL to events; deliveries are signed with its secret."""

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event sent (or to send) to one subscription: the delivery log, with redeliver."""

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
                                                 index=True)
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)

    subscription: Mapped[WebhookSubscription] = relationship()
