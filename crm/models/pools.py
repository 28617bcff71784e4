"""Distribution pools (round robin owners), web capture forms and CSV imports."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.mixins import utcnow
from crm.models.users import User

POOL_RECORD_TYPES = ("lead", "contact", "deal")


class Pool(db.Model):
    """Hands records to its members in turn; `cursor` is the number of turns taken so far.

    `rotation` (user ids) and `rotation_turn` say who gets which turn: turn `rotation_turn` goes to
    rotation[0], the next to rotation[1], and so on around. When the members change, the next
    reservation starts a new rotation with the person who was next in line (crm/services/pools.py).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    record_type: Mapped[str] = mapped_column(String(20), default="lead")
    active: Mapped[bool] = mapped_column(default=True)
    cursor: Mapped[int] = mapped_column(default=0)
    rotation_turn: Mapped[int] = mapped_column(default=1, server_default="1")
    rotation: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list["PoolMember"]] = relationship(
        back_populates="pool", order_by="PoolMember.position", cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        return f"Pool: {self.name} (round robin)"

    def __str__(self) -> str:
        return self.name


class PoolMember(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    weight: Mapped[int] = mapped_column(default=1)
    daily_cap: Mapped[int | None]

    pool: Mapped[Pool] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("pool_id", "user_id", name="uq_pool_member_pool_user"),)


class PoolTurn(db.Model):
    """One turn of a pool's pointer and the member it went to (caps, weekly counts, audits)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pool.id", ondelete="CASCADE"))
    turn: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("pool_id", "turn", name="uq_pool_turn_pool_turn"),
                      Index("ix_pool_turn_pool_at", "pool_id", "at"))


class CaptureForm(db.Model):
    """A public web form (`/f/<slug>`) whose submissions become leads (or deals)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    owner_choice: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(60), default="Web form")
    allowed_origins: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in self.allowed_origins.split() if o.strip()]


class ImportMapping(db.Model):
    """The column mapping last used for a set of CSV headers, offered again next time."""

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    header_key: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the file's values of choice columns became: {field: {value (lower case): choice}}.
    value_map: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("record_type", "header_key", name="uq_import_mapping_type_key"),)


class ImportJob(db.Model):
    """An uploaded CSV on its way in: detected format, mapping, options and the last run's report."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(500))
    encoding: Mapped[str] = mapped_column(String(40))
    delimiter: Mapped[str] = mapped_column(String(4))
    headers: Mapped[list] = mapped_column(JSON, default=list)
    row_count: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0, server_default="0")  # cells in the widest row
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    owner_choice: Mapped[str] = mapped_column(String(40), default="")
    # Values of choice columns the app does not know ({field: [[value, rows], ...]}) and what each
    # becomes ({field: {value (lower case): choice}}): see crm/services/importing/choices.py.
    unknown_values: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    value_map: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    duplicates: Mapped[str] = mapped_column(String(10), default="skip")  # skip | update | create
    report: Mapped[dict] = mapped_column(JSON, default=dict)  # the last run (dry or real)
    job_id: Mapped[str | None] = mapped_column(String(36))
    batch_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
