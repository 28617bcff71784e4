"""Web capture forms: validate a public submission, then create a lead (or a deal) or attach it
to the existing record with the same email, assigning the owner through owner resolution."""
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Note, Pipeline, Role, Stage, User
from crm.models.pools import CaptureForm, Pool
from crm.services import DomainError, history
from crm.services.duplicates import find_similar
from crm.services import assignment
from crm.services.editing import create_record
from crm.services.owners import Assignment, assign, check_choice, parse_choice
from crm.services.record_types import DEAL, LEAD, RecordType
from crm.services.settings import leads_enabled

log = logging.getLogger(__name__)
# key -> (label, max length); the key is the input name and the lead field (message -> description),
# whose length the field registry gives
FIELDS: dict[str, tuple[str, int]] = {
    **{name: (label, LEAD.field(name).max_length) for name, label in (
        ("person_name", "Your name"), ("email", "Email"), ("phone", "Phone"), ("company_name", "Company"),
        ("city", "City"))},
    "message": ("Message", 2000),
}
ALWAYS = ("email",)  # the duplicate check needs it
REQUIRED = ("person_name", "email")
HONEYPOT = "website"
MAX_BYTES = 16 * 1024


@dataclass
class Submission:
    record_type: str
    record_id: int
    created: bool


def field_list(form: CaptureForm) -> list[tuple[str, str, int]]:
    """(name, label, max length) of the form's fields, in the standard order."""
    chosen = set(form.fields) | set(ALWAYS)
    return [(k, label, size) for k, (label, size) in FIELDS.items() if k in chosen]


def validate(form: CaptureForm, data: Mapping[str, str]) -> tuple[dict, dict]:
    """Cleaned values and field-level error messages (empty when the submission is fine)."""
    values, errors = {}, {}
    for name, label, size in field_list(form):
        value = (data.get(name) or "").strip()
        if name in REQUIRED and not value:
            errors[name] = f"Please fill in your {label.lower().removeprefix('your ')}."
        elif len(value) > size:
            errors[name] = f"{label} can be at most {size} characters."
        elif name == "email" and value:
            try:
                value = validate_email(value, check_deliverability=False).normalized
            except EmailNotValidError:
                errors[name] = "Enter an email address like name@company.com."
        values[name] = value
    return values, errors


def submit(session: Session, form: CaptureForm, values: dict) -> Submission:
    """Attach to the record with the same email, or create one assigned by owner resolution."""
    rtype = created_type(session)
    existing = _same_email(session, rtype, values["email"])
    if existing is not None:
        _attach(session, rtype, existing, form, values)
        return Submission(rtype.name, existing, created=False)
    if rtype is LEAD and assignment.rules(session):  # the assignment rules first; the form's owner otherwise
        record = create_record(session, rtype, _record_values(session, rtype, form, values) | {"owner_id": None}, None)
        if assignment.route_new(session, record, None):
            return Submission(rtype.name, record.id, created=True)
        owner, refused = _owner(session, form, rtype)
        owner_id = owner.user.id if owner.user else None
        record.owner_id, record.team_id = owner_id, owner.user.team_id if owner.user else None
        if owner_id:
            history.log(session, rtype.name, record.id, None, "update", field="owner_id", new=owner_id, via=owner.via)
    else:
        owner, refused = _owner(session, form, rtype)
        owner_id = owner.user.id if owner.user else None
        record = create_record(session, rtype, _record_values(session, rtype, form, values) | {"owner_id": owner_id},
                               None, owner_via=owner.via)
    if refused:
        history.log(session, rtype.name, record.id, None, "assign", field="owner_id", old=form.owner_choice,
                    new=f"Web form “{form.name}”: {refused} The {rtype.name} went to {_name(session, owner_id)} instead.")
    return Submission(rtype.name, record.id, created=True)


def created_type(session: Session) -> RecordType:
    """What a submission creates now: a lead, or a deal while leads are switched off."""
    return LEAD if leads_enabled(session) else DEAL


def owner_warning(session: Session, form: CaptureForm) -> str | None:
    """Why the form's owner cannot own what the form creates now, and who gets the records instead."""
    rtype = created_type(session)
    problem = _owner_problem(session, form.owner_choice, rtype)
    if problem is None:
        return None
    fallback = _fallback_owner(session)
    instead = (f" Until then, each new {rtype.name} goes to {fallback.name} (the first active admin)." if fallback
               else f" Until then, new {rtype.name}s get no owner.")
    return problem + instead


def _owner_problem(session: Session, choice: str, rtype: RecordType) -> str | None:
    """A plain sentence when `choice` cannot own a record of `rtype`; None when it can (or is empty).
    Checks without taking a pool's turn (the settings page is a GET)."""
    try:
        kind, ident = parse_choice(choice)
    except DomainError as error:
        return f"{error} Choose a pool or a person."
    pool = session.get(Pool, ident) if kind == "pool" else None
    if kind == "pool" and pool is None:
        return "The chosen pool no longer exists: choose a pool or a person."
    if pool is not None and pool.record_type != rtype.name:
        switch = ("Leads are switched off, so this form creates deals" if rtype is DEAL
                  else "Leads are switched on, so this form creates leads")
        return (f"{switch}; the {pool.record_type} pool “{pool.name}” cannot own {rtype.name}s: "
                f"choose a {rtype.name} pool or a person.")
    try:
        check_choice(session, choice, None, rtype.name)  # the owner service's rules, without taking a turn
    except DomainError as error:
        if pool is not None:
            return f"The pool “{pool.name}” is switched off or has no active member: choose another pool or a person."
        return f"{error} Choose an active person or a pool."
    return None


def _same_email(session: Session, rtype: RecordType, email: str) -> int | None:
    """The duplicate check's email match."""
    matches = find_similar(session, rtype, {"email": email}, None, limit=5)
    return next((m.id for m in matches if any(r.kind == "email" for r in m.reasons)), None)


def _attach(session: Session, rtype: RecordType, record_id: int, form: CaptureForm, values: dict) -> None:
    body = f"Web form “{form.name}” submitted again:\n" + "\n".join(
        f"{FIELDS[k][0]}: {v}" for k, v in values.items() if v)
    session.add(Note(body=body[:10000], author_id=None, **{f"{rtype.name}_id": record_id}))
    history.log(session, rtype.name, record_id, None, "note", new=f"Web form “{form.name}” submitted again")


def _record_values(session: Session, rtype: RecordType, form: CaptureForm, values: dict) -> dict:
    who = values.get("person_name") or values["email"]
    company = values.get("company_name", "")
    title = f"{who} ({company})" if company else who
    common = {"title": title[:200], "email": values["email"], "phone": values.get("phone", ""),
              "city": values.get("city", ""), "source": form.source[:60], "description": values.get("message", "")}
    if rtype is LEAD:
        return common | {"person_name": values.get("person_name", ""), "company_name": company}
    stage = session.scalar(select(Stage).join(Pipeline).order_by(Pipeline.position, Stage.position))
    return common | {"pipeline_id": stage.pipeline_id, "stage_id": stage.id}


def _owner(session: Session, form: CaptureForm, rtype: RecordType) -> tuple[Assignment, str | None]:
    """The form's owner or the pool's next member, and None; when that owner cannot take the record
    (a lead pool while the form makes deals, an inactive person), the first active admin (the one who
    looks after the web forms and hands records on) and the reason. A submission is never lost."""
    try:
        return assign(session, form.owner_choice, None, rtype.name), None
    except DomainError as error:
        reason = _owner_problem(session, form.owner_choice, rtype) or str(error)
        log.warning("Capture form %s: owner %r not used: %s", form.slug, form.owner_choice, reason)
        fallback = _fallback_owner(session)
        return Assignment(fallback), reason


def _fallback_owner(session: Session) -> User | None:
    return session.scalar(select(User).where(User.active, User.role == Role.ADMIN).order_by(User.id))


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.name if user else "no one"


def origin_allowed(form: CaptureForm, origin: str | None, own_origin: str) -> bool:
    """A submission must come from our own page or from a site the admin listed."""
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    return origin == own_origin.rstrip("/").lower() or origin in form.origins


def new_slug(session: Session, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "form"
    slug = base
    while session.scalar(select(CaptureForm.id).where(CaptureForm.slug == slug)):
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug
