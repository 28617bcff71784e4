"""Conditions on a lead that scoring and assignment rules share, each one a SQL predicate.

A condition is a kind and a value ("source" = "Web form", "activity_within" = "7"). `predicate`
turns it into a WHERE clause on the lead table, so a rule applies to one lead or to 100,000 in the
same statement; `describe` says it in words for the lead page ("source Web form").
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, false, func, select
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Activity, CustomField, EmailMessage, Lead, LeadStatus, Territory
from crm.params import shown, to_int
from crm.services import DomainError
from crm.services.filters import contains, custom_condition


@dataclass(frozen=True)
class Kind:
    """One kind of condition: its label in the rule form, what its value is, how it reads."""

    label: object
    value: str  # "text", "number", "days", "territory", "status", "custom" or "" (no value)
    words: object  # "%(value)s" is the value as shown


KINDS: dict[str, Kind] = {
    "source": Kind(_l("Source is"), "text", _l("source %(value)s")),
    "country": Kind(_l("Country is"), "text", _l("country %(value)s")),
    "territory": Kind(_l("Territory is"), "territory", _l("territory %(value)s")),
    "status": Kind(_l("Status is"), "status", _l("status %(value)s")),
    "value_min": Kind(_l("Value at least"), "number", _l("value at least %(value)s")),
    "title_contains": Kind(_l("Title contains"), "text", _l("title contains “%(value)s”")),
    "custom": Kind(_l("Custom field is (key=value)"), "custom", _l("%(value)s")),
    "activity_within": Kind(_l("Activity done in the last N days"), "days",
                            _l("activity in the last %(value)s days")),
    "no_activity_for": Kind(_l("No activity done for N days"), "days", _l("no activity for %(value)s days")),
    "overdue_activity": Kind(_l("Has an overdue activity"), "", _l("overdue activity")),
    "created_within": Kind(_l("Created in the last N days"), "days", _l("created in the last %(value)s days")),
    "older_than": Kind(_l("Created more than N days ago"), "days", _l("created more than %(value)s days ago")),
    "email_logged": Kind(_l("Email logged"), "", _l("email logged")),
}
ASSIGNMENT_KINDS: dict[str, Kind] = KINDS | {
    "score_min": Kind(_l("Score at least"), "number", _l("score at least %(value)s")),
    "score_max": Kind(_l("Score at most"), "number", _l("score at most %(value)s")),
}


def clean_value(session: Session, kind: str, raw: str, kinds: dict[str, Kind] = KINDS) -> str:
    """The value as stored, or DomainError saying what is wrong with it."""
    if kind not in kinds:
        raise DomainError(_l("Choose a condition."))
    what, raw = kinds[kind].value, " ".join((raw or "").split())[:200]
    if what == "":
        return ""
    if not raw:
        raise DomainError(_l("“%(condition)s” needs a value.", condition=kinds[kind].label))
    if what == "days" and to_int(raw, low=1, high=36500) is None:
        raise DomainError(_l("The number of days must be a whole number from 1 to 36500, not %(value)s.",
                             value=shown(raw)))
    if what == "number" and to_int(raw, high=10**12) is None:
        raise DomainError(_l("%(value)s is not a whole number.", value=shown(raw)))
    if what in ("territory", "status"):
        model = Territory if what == "territory" else LeadStatus
        found = session.get(model, to_int(raw) or 0) or session.scalar(select(model).where(model.name == raw))
        if found is None:
            raise DomainError(_l("There is no %(what)s %(value)s.", what=what, value=shown(raw)))
        return str(found.id)
    if what == "custom":
        key, sep, _value = raw.partition("=")
        if not sep or _custom(session).get(key.strip()) is None:
            raise DomainError(_l("Write the custom field as key=value, with the key of a lead custom field."))
        return f"{key.strip()}={_value.strip()}"
    return raw


def predicate(kind: str, value: str, now: datetime, custom_kinds: dict[str, str]):
    """The condition as a WHERE clause on Lead (a stale rule whose field is gone matches nothing)."""
    days = timedelta(days=to_int(value) or 0)
    activity = Activity.lead_id == Lead.id
    done_since = and_(activity, Activity.done, func.coalesce(Activity.done_at, Activity.created_at) >= now - days)
    match kind:
        case "source":
            return Lead.source == value
        case "country":
            return func.lower(Lead.country) == value.lower()
        case "territory":
            return Lead.territory_id == (to_int(value) or 0)
        case "status":
            return Lead.status_id == (to_int(value) or 0)
        case "value_min":
            return Lead.value >= (to_int(value) or 0)
        case "title_contains":
            return contains(Lead.title, value)
        case "custom":
            key, _sep, wanted = value.partition("=")
            return custom_condition(Lead, key, wanted, custom_kinds[key]) if key in custom_kinds else false()
        case "activity_within":
            return exists().where(done_since)
        case "no_activity_for":
            return ~exists().where(done_since)
        case "overdue_activity":
            return exists().where(activity, ~Activity.done, Activity.due_at < now)
        case "created_within":
            return Lead.created_at >= now - days
        case "older_than":
            return Lead.created_at < now - days
        case "email_logged":
            return exists().where(EmailMessage.lead_id == Lead.id)
        case "score_min":
            return Lead.score >= (to_int(value) or 0)
        case "score_max":
            return Lead.score <= (to_int(value) or 0)
    return false()


def describe(session: Session, kind: str, value: str) -> str:
    """The condition in words: "source Web form", "activity in the last 7 days"."""
    spec = ASSIGNMENT_KINDS.get(kind)
    if spec is None:
        return kind
    if spec.value in ("territory", "status"):
        found = session.get(Territory if spec.value == "territory" else LeadStatus, to_int(value) or 0)
        value = found.name if found else _("(removed)")
    return str(spec.words) % {"value": value}


def custom_kinds(session: Session) -> dict[str, str]:
    """Lead custom fields' kinds by key (how a custom condition compares)."""
    return {key: f.kind for key, f in _custom(session).items()}


def _custom(session: Session) -> dict[str, CustomField]:
    return {f.key: f for f in session.scalars(select(CustomField).where(CustomField.record_type == "lead"))}
