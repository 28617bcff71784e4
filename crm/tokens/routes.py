"""Settings → API tokens: each user's personal tokens (admins see and revoke everyone's).

A new token is shown once, in the response to the form that created it (never in a flash
message: the session cookie is signed, not encrypted), and stored only as its digest.
"""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from crm.extensions import db
from crm.form_choices import select_choices
from crm.i18n import _, _l
from crm.models import ApiToken
from crm.models.api import READ, READ_WRITE
from crm.models.mixins import utcnow
from crm.rendering import render
from crm.services import DomainError
from crm.services.api_tokens import issue_token, revoke, tokens_shown_to

bp = Blueprint("tokens", __name__, url_prefix="/settings/api-tokens")
EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365, "never": None}


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("What the token is for, e.g. “Zapier” or “Billing sync”"))
    scope = SelectField(_l("Scope"), default=READ, choices=select_choices(
        [(READ, _l("Read only")), (READ_WRITE, _l("Read and write"))]))
    expires = SelectField(_l("Expires"), default="90", choices=select_choices(
        [("30", _l("In 30 days")), ("90", _l("In 90 days")), ("365", _l("In a year")), ("never", _l("Never"))]))


@bp.before_request
@login_required
def require_login():
    """Every user manages their own tokens."""


@bp.get("/")
def index():
    """The caller's tokens (an admin's: everyone's) and the form for a new one."""
    return _page(TokenForm())


@bp.post("/")
def create():
    """Issue a token and show it once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    days = EXPIRY_DAYS[form.expires.data]
    try:
        token = issue_token(db.session, current_user, form.name.data, form.scope.data,
                            expires_at=utcnow() + timedelta(days=days) if days else None)
    except DomainError as error:
        form.name.errors.append(str(error))
        return _page(form, status=422)
    db.session.commit()
    return _page(TokenForm(formdata=None), new_token=token, new_name=form.name.data, status=201)


@bp.post("/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke a token now (its owner, or an admin)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.client_id is not None:
        abort(404)
    try:
        revoke(db.session, token, current_user)
    except DomainError as error:
        abort(403, str(error))
    db.session.commit()
    flash(_("Token “%(name)s” revoked: calls with it are refused from now on.", name=token.name))
    return redirect(url_for("tokens.index"), code=303)


def _page(form: TokenForm, status: int = 200, **context):
    tokens = db.session.scalars(tokens_shown_to(current_user)).all()
    return render("tokens/index.html", "tokens_page", status=status, form=form, tokens=tokens, now=utcnow(),
                  **context)
