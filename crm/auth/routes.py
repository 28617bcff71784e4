from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from crm.extensions import db
from crm.models import User
from crm.rendering import render
from crm.templating import home_url

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(func.lower(User.email) == form.email.data.strip().lower()))
        if user is None or not user.check_password(form.password.data) or not user.active:
            form.password.errors.append("Wrong email or password.")
        else:
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")), code=303)
    return render("auth/login.html", "login_form", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out, leaving nothing of the session behind (not even unread messages).

    Clear first: logout_user() then marks the remember-me cookie for deletion in the session.
    """
    session.clear()
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"), code=303)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return home_url()
