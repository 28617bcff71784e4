"""Web capture forms: validate a public submission, then create a lead (or a deal) or attach it
to the existing record with the same email, assigning the owner through owner resolution."""
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Note, Pipeline, Stage
from crm.models.pools import CaptureForm
from crm.services import DomainError, history
from crm.services.editing import create_record
from crm.services.owners import resolve_owner_id
from crm.services.record_types import DEAL, LEAD, RecordType
from crm.services.settings import leads_enabled

# key -> (label, max length); the key is the input name and the lead column (message -> description)
FIELDS: dict[str, tuple[str, int]] = {
    "person_name": ("Your name", 160),
    "email": ("Email", 254),
    "phone": ("Phone", 40),
    "company_name": ("Company", 160),
    "city": ("City", 120),
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
    rtype = LEAD if leads_enabled(session) else DEAL
    existing = _same_email(session, rtype, values["email"])
    if existing is not None:
        _attach(session, rtype, existing, form, values)
        return Submission(rtype.name, existing, created=False)
    record = create_record(session, rtype, _record_values(session, rtype, form, values), None)
    return Submission(rtype.name, record.id, created=True)


def _same_email(session: Session, rtype: RecordType, email: str) -> int | None:
    """The duplicate check's email match (the shared duplicates service when it is there)."""
    try:
        from crm.services.duplicates import find_similar
    except ImportError:  # pragma: no cover - the service ships with the app
        model = rtype.model
        return session.scalar(select(model.id).where(func.lower(model.email) == email.lower(),
                                                     model.deleted_at.is_(None)).order_by(model.id))
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
              "city": values.get("city", ""), "source": form.source[:60], "description": values.get("message", ""),
              "owner_id": _owner(session, form, rtype)}
    if rtype is LEAD:
        return common | {"person_name": values.get("person_name", ""), "company_name": company}
    stage = session.scalar(select(Stage).join(Pipeline).order_by(Pipeline.position, Stage.position))
    return common | {"pipeline_id": stage.pipeline_id, "stage_id": stage.id}


def _owner(session: Session, form: CaptureForm, rtype: RecordType) -> int | None:
    """The form's owner or the pool's next member; a submission is never lost over a bad owner."""
    try:
        return resolve_owner_id(session, form.owner_choice, None, rtype.name)
    except DomainError as error:
        current_app.logger.warning("Capture form %s: owner %r not used: %s", form.slug, form.owner_choice, error)
        return None


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
