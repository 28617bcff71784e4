from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SoftDelete:
    """Records go to the trash (deleted_at set) before they are purged for good."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    deleted_batch_id: Mapped[str | None] = mapped_column(String(36))


class Owned:
    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user.id"), index=True)

    @declared_attr
    def team_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("team.id"), index=True)


class Located:
    address: Mapped[str] = mapped_column(String(255), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]

    @declared_attr
    def territory_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("territory.id", ondelete="SET NULL"), index=True)


class CustomValues:
    """Values of admin-defined custom fields, keyed by CustomField.key."""

    custom: Mapped[dict] = mapped_column(JSON, default=dict)
