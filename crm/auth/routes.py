"""Logging in (throttled per account and per address) and out (every session of the user ends)."""
from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired

from crm.auth.sessions import start_login
from crm.extensions import db, limiter
from crm.i18n import _, _l
from crm.models import User
from crm.rendering import render
from crm.services.sessions import end_all_sessions
from crm.templating import home_url

bp = Blueprint("auth", __name__)
WRONG = _l("Wrong email or password.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    keep = BooleanField(_l("Keep me logged in on this device"))


def _account() -> str:
    """The throttling key of the account a login attempt names (whether it exists or not)."""
    return "login-account:" + request.form.get("email", "").strip().lower()[:254]


def _failed(response) -> bool:
    """Only failed attempts count: the real user logging in is never held back by their successes."""
    return response.status_code == 422


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ACCOUNT"], key_func=_account, methods=["POST"],
               deduct_when=_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT_ADDRESS"], key_func=get_remote_address,
               methods=["POST"], deduct_when=_failed, scope="login-address")
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if user is None or not user.check_password(form.password.data) or not user.active:
            form.password.errors.append(WRONG)
        else:
            start_login(user, keep=form.keep.data)
            return redirect(safe_next(request.args.get("next")), code=303)
    return render("auth/login.html", "login_form", form=form, status=422 if form.errors else 200)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error: RateLimitExceeded):
    """The login form again, saying how long to wait; nothing is locked for longer than that."""
    form = LoginForm()
    form.password.errors = [_("Too many failed logins. Wait a minute, then try again.")]
    return render("auth/login.html", "login_form", form=form, status=429)


@bp.post("/logout")
@login_required
def logout():
    """Log out everywhere: this browser and every other session or remember-me cookie of the user.

    Clear first: logout_user() then marks the remember-me cookie for deletion in the session.
    """
    end_all_sessions(db.session, current_user)
    db.session.commit()
    session.clear()
    logout_user()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"), code=303)


def safe_next(target: str | None) -> str:
    """A path on this site to go on to, never another site ("//x", "/\\x") nor a huge header."""
    if (target and target.startswith("/") and not target.startswith("//") and len(target) < 2000
            and target.isprintable() and "\\" not in target):
        return target
    return home_url()
