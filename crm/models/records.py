from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.mixins import CustomValues, Located, Owned, SoftDelete, Timestamps
from crm.models.users import User


LIVE = text("deleted_at IS NULL")
LEAD_SORTS = ("title", "person_name", "company_name", "source", "city", "value", "created_at", "updated_at",
              "score")


def live_sort_indexes(table: str, columns: tuple[str, ...]) -> list[Index]:
    """(column, id) over the records not in the trash, one per sortable column: a list page of 50 in
    any order (either direction) reads 50 index entries instead of sorting the whole table."""
    return [Index(f"ix_{table}_live_{c}", c, "id", postgresql_where=LIVE, sqlite_where=LIVE) for c in columns]


class LeadStatus(db.Model):
    """Configurable lead statuses; `kind` marks the terminal ones."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(16), default="open")  # open | converted | lost

    def __str__(self) -> str:
        return self.name


class Pipeline(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    stages: Mapped[list["Stage"]] = relationship(
        back_populates="pipeline", order_by="Stage.position"
    )

    def __str__(self) -> str:
        return self.name


class Stage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipeline.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)
    is_won: Mapped[bool] = mapped_column(default=False)
    is_lost: Mapped[bool] = mapped_column(default=False)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    def __str__(self) -> str:
        return f"{self.pipeline.name}: {self.name}"


class Territory(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    geojson: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    auto_assign: Mapped[bool] = mapped_column(default=False)
    color: Mapped[str] = mapped_column(String(16), default="#3b82f6")

    owner: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.name


class Organization(Timestamps, SoftDelete, Owned, Located, CustomValues, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(60), default="", index=True)

    owner: Mapped[User | None] = relationship(foreign_keys="Organization.owner_id")
    territory: Mapped[Territory | None] = relationship()
    contacts: Mapped[list["Contact"]] = relationship(back_populates="organization")

    def __str__(self) -> str:
        return self.name


class Contact(Timestamps, SoftDelete, Owned, Located, CustomValues, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(String(60), default="", index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)

    owner: Mapped[User | None] = relationship(foreign_keys="Contact.owner_id")
    territory: Mapped[Territory | None] = relationship()
    organization: Mapped[Organization | None] = relationship(back_populates="contacts")

    def __str__(self) -> str:
        return self.name


class Lead(Timestamps, SoftDelete, Owned, Located, CustomValues, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    person_name: Mapped[str] = mapped_column(String(160), default="")
    company_name: Mapped[str] = mapped_column(String(160), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(60), default="", index=True)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("lead_status.id"), index=True)
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR", server_default="EUR")
    expected_close: Mapped[date | None] = mapped_column(Date)  # kept from a deal, and given back to one
    tags: Mapped[str] = mapped_column(String(400), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    converted_at: Mapped[datetime | None] = mapped_column(DateTime)
    converted_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    converted_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    converted_deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id"))
    origin_deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"))
    score: Mapped[int] = mapped_column(default=0, server_default="0")  # crm/services/scoring.py

    owner: Mapped[User | None] = relationship(foreign_keys="Lead.owner_id")
    status: Mapped[LeadStatus | None] = relationship()
    territory: Mapped[Territory | None] = relationship()
    contact: Mapped[Contact | None] = relationship(foreign_keys="Lead.contact_id")
    organization: Mapped[Organization | None] = relationship(foreign_keys="Lead.organization_id")

    __table_args__ = tuple(live_sort_indexes("lead", LEAD_SORTS))

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (s.strip() for s in self.tags.split(",")) if t]

    def __str__(self) -> str:
        return self.title


class Deal(Timestamps, SoftDelete, Owned, Located, CustomValues, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipeline.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    expected_close: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(60), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    owner: Mapped[User | None] = relationship(foreign_keys="Deal.owner_id")
    pipeline: Mapped[Pipeline] = relationship()
    stage: Mapped[Stage] = relationship()
    contact: Mapped[Contact | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    territory: Mapped[Territory | None] = relationship()

    def __str__(self) -> str:
        return self.title
