"""Values of registry fields: the choices a field offers, and outside text turned into stored values.

`options` feeds the form's selects; `ValueParser` turns what a CSV cell or an API request says
about a field into column values (checked against the field's kind, length, bounds and choices)
or raises a DomainError that names the field. Owners are not parsed here: every owner goes through
the owner service (crm/services/owners.py).
"""
import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import Contact, LeadStatus, Organization, Pipeline, Stage, User
from crm.params import to_id
from crm.services import DomainError, lead_statuses
from crm.services.fields import Field, Kind, column_values
from crm.services.owners import owner_choices
from crm.services.permissions import visible_clause

PLAIN_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
RECORD_SOURCES = {"organization": Organization, "contact": Contact}
RECORD_OPTIONS = 1000  # a select offers at most this many records
TRUE, FALSE = ("yes", "true", "1", "on", "y"), ("no", "false", "0", "off", "n", "")


def options(session: Session, field: Field, viewer: User, record_type: str) -> list[tuple[str, str]]:
    """(value, label) of every choice the field offers this viewer, in display order."""
    source = field.choices
    if isinstance(source, tuple):
        return [(c, c) for c in source]
    if source == "lead_status":
        return [(str(s.id), s.name) for s in session.scalars(lead_statuses.ordered())]
    if source == "stage":
        return [(str(s.id), str(s)) for s in session.scalars(
            select(Stage).join(Stage.pipeline).order_by(Pipeline.position, Stage.pipeline_id, Stage.position))]
    if source == "owner":
        return owner_choices(session, viewer, record_type)
    model = RECORD_SOURCES[source]
    return [(str(i), n) for i, n in session.execute(
        select(model.id, model.name).where(model.deleted_at.is_(None), visible_clause(model, viewer))
        .order_by(model.name).limit(RECORD_OPTIONS))]


def default_values(session: Session, fields) -> dict:
    """What a new record gets when nothing says otherwise: a lead starts in the first open status,
    a deal in the first stage of the first pipeline."""
    values: dict = {}
    for f in fields:
        if f.choices == "lead_status":
            values[f.attr] = lead_statuses.first_status(session, "open")
        elif f.choices == "stage":
            first = session.scalar(select(Stage).join(Pipeline).order_by(Pipeline.position, Stage.position).limit(1))
            values |= column_values(f, first) if first else {}
    return values


def text_value(field: Field, record) -> str:
    """A field's value as plain text (exports, the merge panel): names for choices and references."""
    value = field.value(record)
    if value is None or value == "":
        return ""
    if field.relation:
        target = getattr(record, field.relation)
        return str(target) if target is not None else f"#{value}"
    if field.kind == Kind.BOOLEAN:
        return _("yes") if value else _("no")
    if field.kind == Kind.MONEY:
        currency = getattr(record, field.currency, "") if field.currency else ""
        return f"{currency} {value:,.2f}".strip()
    if field.kind == Kind.TAGS:
        return ", ".join(t.strip() for t in str(value).split(",") if t.strip())
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class ValueParser:
    """Outside values (CSV cells, JSON) for registry fields -> column values; lookups read once."""

    def __init__(self, session: Session, viewer: User | None):
        self.session, self.viewer = session, viewer
        self._statuses: dict[str, int] | None = None
        self._stages: dict[str, tuple[int, int]] | None = None

    def values(self, fields: dict[str, Field], raw: dict) -> dict:
        """Column values for {field name: outside value}; empty values are left out."""
        out: dict = {}
        for name, value in raw.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            field = fields[name]
            parsed = self.parse(field, value)
            if field.custom_key:
                out.setdefault("custom", {})[field.custom_key] = parsed
            elif isinstance(parsed, dict):
                out |= parsed
            else:
                out[field.attr] = parsed
        return out

    def parse(self, field: Field, value):
        """One field's value, checked; a dict when it sets several columns (a stage and its pipeline)."""
        if field.choices and not isinstance(field.choices, tuple):
            return self._from_source(field, value)
        if field.kind in (Kind.MONEY, Kind.NUMBER, Kind.GEO):
            return self._number(field, value)
        if field.kind == Kind.BOOLEAN:
            return self._boolean(field, value)
        text = str(value).strip()
        if field.max_length and len(text) > field.max_length:
            raise DomainError(_("%(field)s is longer than %(size)s characters.", field=field.label,
                                size=field.max_length))
        if field.kind == Kind.EMAIL:
            return email(text)
        if field.kind == Kind.DATE:
            return self._date(field, text)
        if isinstance(field.choices, tuple) and field.choices:
            return self._fixed_choice(field, text)
        return text

    def _number(self, field: Field, value):
        if isinstance(value, bool):
            raise DomainError(_("%(field)s “%(value)s” is not a number.", field=field.label, value=value))
        text = str(value).strip()
        cleaned = re.sub(r"[^\d.,-]", "", text).replace(",", "") if field.kind == Kind.MONEY else text
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise DomainError(_("%(field)s “%(value)s” is not a number.", field=field.label, value=text)) from None
        if not number.is_finite():
            raise DomainError(_("%(field)s “%(value)s” is not a number.", field=field.label, value=text))
        if field.kind == Kind.MONEY:
            if number < 0:
                raise DomainError(_("%(field)s cannot be negative.", field=field.label))
            return number.quantize(Decimal("0.01"))
        low, high = field.bounds or (-math.inf, math.inf)
        if not low <= number <= high:
            raise DomainError(_("%(field)s must be between %(low)s and %(high)s.", field=field.label, low=low,
                                high=high))
        return float(number)

    def _boolean(self, field: Field, value) -> bool:
        text = str(value).strip().lower()
        if isinstance(value, bool) or text in TRUE + FALSE:
            return value if isinstance(value, bool) else text in TRUE
        raise DomainError(_("%(field)s must be yes or no, not “%(value)s”.", field=field.label, value=value))

    def _date(self, field: Field, text: str) -> str | date:
        try:
            parsed = date.fromisoformat(text[:10])
        except ValueError:
            raise DomainError(_("%(field)s “%(value)s” is not a date (use YYYY-MM-DD).", field=field.label,
                                value=text)) from None
        return parsed.isoformat() if field.custom_key else parsed

    def _fixed_choice(self, field: Field, text: str) -> str:
        match = next((c for c in field.choices if c.lower() == text.lower()), None)
        if match is None:
            raise DomainError(_("Unknown %(field)s “%(value)s” (use %(choices)s).", field=str(field.label).lower(),
                                value=text, choices=", ".join(field.choices)))
        return match

    def _from_source(self, field: Field, value) -> dict:
        """A status or stage by id or name; an organization or contact by id (one the viewer may see)."""
        text = str(value).strip()
        if field.choices == "lead_status":
            if self._statuses is None:
                rows = self.session.execute(select(LeadStatus.id, LeadStatus.name)).all()
                self._statuses = {n.lower(): i for i, n in rows} | {str(i): i for i, _n in rows}
            if text.lower() not in self._statuses:
                raise DomainError(_("Unknown lead status “%(name)s”.", name=text))
            return {field.attr: self._statuses[text.lower()]}
        if field.choices == "stage":
            if self._stages is None:
                self._stages = {}
                for stage in self.session.scalars(select(Stage).join(Pipeline).order_by(
                        Pipeline.position.desc(), Stage.position.desc())):  # the first pipeline's wins a name
                    self._stages[stage.name.lower()] = self._stages[str(stage.id)] = (stage.id, stage.pipeline_id)
            if text.lower() not in self._stages:
                raise DomainError(_("Unknown stage “%(name)s”.", name=text))
            stage_id, pipeline_id = self._stages[text.lower()]
            return {field.attr: stage_id, field.companions[0]: pipeline_id}
        if field.choices == "owner":
            raise DomainError(_("Owners are resolved by the owner service."))
        model = RECORD_SOURCES[field.choices]
        record_id = to_id(text)
        record = self.session.get(model, record_id) if record_id else None
        if record is None or record.deleted_at is not None or (
                self.viewer is not None and not self.session.scalar(
                    select(model.id).where(model.id == record.id, visible_clause(model, self.viewer)))):
            raise DomainError(_("There is no %(field)s #%(id)s.", field=str(field.label).lower(), id=text))
        return {field.attr: record.id}


def email(text: str) -> str:
    """Plain ASCII addresses by a quick pattern; anything else through email-validator."""
    if PLAIN_EMAIL.match(text) and ".." not in text and not text.startswith("."):
        local, _at, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(_("“%(text)s” is not an email address.", text=text)) from None
