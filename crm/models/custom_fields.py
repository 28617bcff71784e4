from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db

FIELD_KINDS = ("text", "number", "date", "choice", "checkbox")


class CustomField(db.Model):
    """An admin-defined extra field of one record type; values live in the record's `custom` JSON."""

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default="text")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (UniqueConstraint("record_type", "key"),)
