"""One row's cells checked and converted to column values: lengths, email, numbers, status, stage, owner."""
import re
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import LeadStatus, Pipeline, Stage, User
from crm.models.pools import Pool
from crm.services import DomainError
from crm.services.importing.mapping import LABELS
from crm.services.record_types import RecordType

CURRENCIES = ("EUR", "USD", "GBP", "SEK")
PLAIN_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class RowValues:
    """Converts a row's mapped cells to column values; the lookups it needs are read once per run."""

    def __init__(self, session: Session, rtype: RecordType):
        self.session, self.rtype = session, rtype
        self.statuses = {n.lower(): i for i, n in session.execute(select(LeadStatus.id, LeadStatus.name))}
        self.stages = {}
        for stage in session.scalars(select(Stage).join(Pipeline).order_by(Pipeline.position.desc(),
                                                                           Stage.position.desc())):
            self.stages[stage.name.lower()] = (stage.id, stage.pipeline_id)
        first = session.scalar(select(Stage).join(Pipeline).order_by(Pipeline.position, Stage.position))
        self.first_stage = (first.id, first.pipeline_id) if first else None
        self.owners: dict[str, str] = {}
        for u in session.scalars(select(User)):
            for key in (u.email.lower(), u.name.lower()):
                self.owners[key] = f"user:{u.id}" if u.active else f"inactive:{u.name}"
        for p in session.scalars(select(Pool).where(Pool.record_type == rtype.name)):
            self.owners[p.name.lower()] = f"pool:{p.id}" if p.active else f"off:{p.name}"

    def owner(self, text: str) -> str:
        """The owner choice ("user:3", "pool:2") a cell names, or "" for an empty cell."""
        if not text:
            return ""
        choice = self.owners.get(text.lower())
        if choice is None:
            raise DomainError(_("Unknown owner “%(name)s”: use a pool name, or a user's email or name.", name=text))
        if choice.startswith("inactive:"):
            raise DomainError(_("%(name)s is inactive and cannot own records.", name=text))
        if choice.startswith("off:"):
            raise DomainError(_("The pool %(name)s is switched off.", name=text))
        return choice

    def values(self, raw: dict[str, str]) -> dict:
        """Column values for a row's cells by field; DomainError names the first cell that does not fit."""
        table = self.rtype.model.__table__
        values = {}
        for name, text in raw.items():
            if name in ("owner", "status", "stage"):
                continue
            size = getattr(table.c[name].type, "length", None)
            if size and len(text) > size:
                raise DomainError(_("%(field)s is longer than %(size)s characters.", field=LABELS[name], size=size))
            values[name] = text
        if "email" in values:
            values["email"] = email(values["email"])
        if "value" in values:
            values["value"] = number(values["value"])
        if values.get("currency") and values["currency"].upper() not in CURRENCIES:
            raise DomainError(_("Unknown currency “%(code)s” (use %(codes)s).", code=values["currency"],
                                codes=", ".join(CURRENCIES)))
        return self._typed(values, raw)

    def _typed(self, values: dict, raw: dict[str, str]) -> dict:
        name = self.rtype.name
        if name == "lead":
            values["title"] = values.get("title") or values.get("company_name") or values.get("person_name") or ""
            if raw.get("status"):
                if raw["status"].lower() not in self.statuses:
                    raise DomainError(_("Unknown lead status “%(name)s”.", name=raw["status"]))
                values["status_id"] = self.statuses[raw["status"].lower()]
        if name == "deal":
            stage = self.stages.get(raw.get("stage", "").lower()) if raw.get("stage") else self.first_stage
            if stage is None:
                raise DomainError(_("Unknown stage “%(name)s”.", name=raw["stage"]))
            values["stage_id"], values["pipeline_id"] = stage
        title = self.rtype.title_column
        if not values.get(title):
            raise DomainError(_("The row has no %(field)s: map a column to %(label)s or fill it in.",
                                field=str(LABELS[title]).lower(), label=LABELS[title]))
        return values


def email(text: str) -> str:
    """Plain ASCII addresses by a quick pattern; anything else through email-validator."""
    if PLAIN_EMAIL.match(text) and ".." not in text and not text.startswith("."):
        local, _at, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(_("“%(text)s” is not an email address.", text=text)) from None


def number(text: str) -> Decimal:
    cleaned = re.sub(r"[^\d.,-]", "", text).replace(",", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise DomainError(_("Value “%(text)s” is not a number.", text=text)) from None
