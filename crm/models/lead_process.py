"""Admin rules of the lead process: scoring rules (points when a condition holds) and assignment rules."""
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class ScoringRule(db.Model):
    """`points` (negative allowed) when the condition `kind` (crm/services/lead_conditions.py) holds
    with `value`; a lead's score is the sum over the rules, kept between 0 and 100."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200), default="")
    points: Mapped[int] = mapped_column(default=0)


class AssignmentRule(db.Model):
    """Ordered routing of new leads: the first rule whose conditions all hold gives the lead an owner.

    `conditions` is a list of [kind, value] (crm/services/lead_conditions.py, score range included);
    `owner_choice` is an owner choice of crm/services/owners.py ("user:3", "pool:2") or "territory"
    (the owner of the lead's territory)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    owner_choice: Mapped[str] = mapped_column(String(40))
