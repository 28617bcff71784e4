"""JSON API over the same filter builder, permissions and services as the pages.

Reads accept the browser session or `Authorization: Bearer <token>`; writes need the token
(`flask --app wsgi api-token EMAIL` issues one), so the API is exempt from CSRF.
"""
import click
from flask import Blueprint, abort, jsonify, request
from flask_login import current_user
from sqlalchemy import func, select

from crm.extensions import csrf, db
from crm.models import User
from crm.paging import paginate
from crm.services import DomainError
from crm.services.api_tokens import issue_token, user_for_token
from crm.services.editing import create_record
from crm.services.field_values import ValueParser
from crm.services.fields import api_fields
from crm.services.filters import filtered_select, parse_filter
from crm.services.owners import assign
from crm.services.permissions import can_view
from crm.services.record_types import RECORD_TYPES
from crm.services.settings import LEADS_OFF, enabled_types

bp = Blueprint("api", __name__, url_prefix="/api", cli_group=None)
csrf.exempt(bp)
# Columns every response carries besides the registry's fields (crm/services/record_types.py).
EXTRA = ("team_id", "converted_at", "converted_contact_id", "converted_organization_id", "converted_deal_id",
         "origin_deal_id")


def _viewer(write: bool = False) -> User:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(db.session, header.removeprefix("Bearer ").strip())
        if user is None:
            abort(_error(401, "That API token is not valid."))
        return user
    if write or not current_user.is_authenticated:
        abort(_error(401, "Send an API token: Authorization: Bearer <token>."))
    return current_user


def _error(status: int, message: str, **extra):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    return response


def _type(plural: str, viewer: User):
    """The record type named in the URL, if the caller works with it (leads may be switched off)."""
    rtype = next((t for t in RECORD_TYPES.values() if t.plural == plural), None)
    if rtype is None:
        abort(_error(404, f"Unknown record type {plural!r}."))
    if rtype.name not in enabled_types(db.session, viewer):
        abort(_error(403, LEADS_OFF))
    return rtype


def _as_json(rtype, record) -> dict:
    columns = ["id", *(c for f in rtype.fields for c in (f.attr, *f.companions)), *EXTRA]
    data = {name: getattr(record, name) for name in columns if hasattr(record, name)}
    data["custom"] = record.custom or {}
    return {k: (v.isoformat() if hasattr(v, "isoformat") else float(v) if hasattr(v, "normalize") else v)
            for k, v in data.items()}


@bp.get("/<plural>")
def list_records(plural: str):
    """Records matching the URL filter (same arguments as the pages), 100 per page."""
    viewer = _viewer()
    rtype = _type(plural, viewer)
    flt = parse_filter(db.session, rtype, request.args, viewer)
    if flt.errors:
        return _error(400, "The filter is not valid.", details=flt.errors)
    page, notice = paginate(filtered_select(rtype, flt, viewer).order_by(rtype.model.id), per_page=100)
    body = {"count": page.total, "page": page.page, "items": [_as_json(rtype, r) for r in page.items]}
    return jsonify(body | ({"notice": notice} if notice else {}))


@bp.get("/<plural>/<int:record_id>")
def show_record(plural: str, record_id: int):
    """One record, if the caller may see it."""
    viewer = _viewer()
    rtype = _type(plural, viewer)
    record = db.session.get(rtype.model, record_id)
    if record is None or not can_view(viewer, record):
        return _error(404, f"No {rtype.label.lower()} #{record_id}.")
    return jsonify(_as_json(rtype, record))


@bp.post("/<plural>")
def create(plural: str):
    """Create a record from the registry's API-writable fields; `owner` is an owner choice: "user:3",
    "user:ana@example.com", "pool:2" or "pool:Inbound EU" (the pool's next member gets it)."""
    viewer = _viewer(write=True)
    rtype = _type(plural, viewer)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "Send a JSON object.")
    writable = {f.name: f for f in api_fields(db.session, rtype)}
    unknown = set(payload) - set(writable)
    if unknown:
        return _error(422, "Unknown fields.", fields=sorted(unknown))
    missing = [name for name, f in writable.items() if f.required and str(payload.get(name) or "").strip() == ""]
    if missing:
        return _error(422, f"{missing[0]} is required.", fields=missing)
    try:
        owner = assign(db.session, str(payload.pop("owner", "") or f"user:{viewer.id}"), viewer, rtype.name)
        values = ValueParser(db.session, viewer).values(writable, payload)
        values["owner_id"] = owner.user.id if owner.user else None
        record = create_record(db.session, rtype, values, viewer, owner_via=owner.via)
    except DomainError as error:
        db.session.rollback()
        return _error(422, str(error))
    db.session.commit()
    return jsonify(_as_json(rtype, record)), 201


@bp.cli.command("api-token")
@click.argument("email")
def api_token_command(email: str) -> None:
    """Issue a new API token for a user (replaces the old one)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        raise click.ClickException(f"No user with the email {email}.")
    token = issue_token(db.session, user)
    db.session.commit()
    click.echo(token)
