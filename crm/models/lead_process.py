"""Admin rules of the lead process: scoring rules (points when a condition holds)."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class ScoringRule(db.Model):
    """`points` (negative allowed) when the condition `kind` (crm/services/lead_conditions.py) holds
    with `value`; a lead's score is the sum over the rules, kept between 0 and 100."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[int] = mapped_column(default=0)
