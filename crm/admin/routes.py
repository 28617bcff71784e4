from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.auth.sessions import keep_logged_in
from crm.admin.forms import CustomFieldForm, LeadStatusForm, TeamForm, UserForm
from crm.extensions import db
from crm.form_choices import FormView, select_choices
from crm.models import CustomField, Team, User
from crm.params import to_id
from crm.rendering import render
from crm.services import DomainError
from crm.services import admin as service
from crm.services import lead_statuses
from crm.services.settings import get_setting, team_leads_state

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(403, "Only admins can open the administration pages.")


@bp.route("/", methods=["GET", "POST"])
def index():
    """Settings overview: the leads switch, teams, lead statuses, custom fields, users."""
    status_form, team_form, field_form = LeadStatusForm(prefix="status"), TeamForm(prefix="team"), CustomFieldForm(prefix="cf")
    return _overview(status_form, team_form, field_form)


def _overview(status_form, team_form, field_form, status: int = 200):
    return render("admin/index.html", "admin_page", status=status,
                  use_leads=get_setting(db.session, "use_leads", "yes") == "yes",
                  teams=[(t, team_leads_state(db.session, t))
                         for t in db.session.scalars(select(Team).order_by(Team.name))],
                  statuses=db.session.scalars(lead_statuses.ordered()).all(),
                  status_usage=lead_statuses.usage(db.session),
                  fields=db.session.scalars(select(CustomField).order_by(CustomField.record_type, CustomField.position)).all(),
                  users=db.session.scalars(select(User).order_by(User.name)).all(),
                  status_form=status_form, team_form=team_form, field_form=field_form)


@bp.post("/leads-setting")
def leads_setting():
    """Switch leads on or off globally, or for one team."""
    raw = request.form.get("team", "")
    team = db.get_or_404(Team, to_id(raw) or abort(400, "Unknown team.")) if raw.strip() else None
    service.set_leads_enabled(db.session, current_user, request.form.get("enabled") == "1", team)
    db.session.commit()
    flash("Leads setting saved.")
    return redirect(url_for("admin.index"), code=303)


@bp.post("/statuses")
def add_status():
    """Add a lead status."""
    form = LeadStatusForm(prefix="status")
    return _add(form, lambda: lead_statuses.add_status(db.session, current_user, form.name.data, form.kind.data),
                "Lead status added.", status_form=form)


@bp.post("/teams")
def add_team():
    """Add a team."""
    form = TeamForm(prefix="team")
    return _add(form, lambda: service.add_team(db.session, current_user, form.name.data), "Team added.", team_form=form)


@bp.post("/custom-fields")
def add_custom_field():
    """Define a custom field for one record type."""
    form = CustomFieldForm(prefix="cf")
    values = {k: getattr(form, k).data for k in ("record_type", "label", "key", "kind", "choices", "required")}
    return _add(form, lambda: service.add_custom_field(db.session, current_user, values),
                "Custom field added.", field_form=form)


def _add(form, action, message: str, **forms):
    if form.validate_on_submit():
        try:
            action()
        except DomainError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(message)
            return redirect(url_for("admin.index"), code=303)
    defaults = {"status_form": LeadStatusForm(prefix="status"), "team_form": TeamForm(prefix="team"),
                "field_form": CustomFieldForm(prefix="cf")}
    return _overview(**(defaults | forms), status=422)


@bp.post("/custom-fields/<int:field_id>/delete")
def delete_custom_field(field_id: int):
    """Remove a custom field definition (values stay stored)."""
    service.delete_custom_field(db.session, current_user, db.get_or_404(CustomField, field_id))
    db.session.commit()
    flash("Custom field removed. Values already entered are kept in the records.")
    return redirect(url_for("admin.index"), code=303)


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int | None):
    """Create or change a user: role, team, active, conversion permission, password."""
    user = db.get_or_404(User, user_id) if user_id else None
    form = UserForm(obj=FormView(user, {"team": str(user.team_id or "")}) if user else None)
    form.team.choices = select_choices(((str(t.id), t.name) for t in db.session.scalars(select(Team).order_by(Team.name))),
                                        blank="No team")
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in ("name", "email", "role", "active", "can_convert_deals")}
        values["team_id"] = int(form.team.data) if form.team.data else None
        try:
            user = service.save_user(db.session, current_user, values, user, form.password.data or None)
        except DomainError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            if user.id == current_user.id and form.password.data:
                keep_logged_in(user)  # the admin's other sessions ended; this one goes on
            flash(f"Saved {user.name}.")
            return redirect(url_for("admin.index"), code=303)
    return render("admin/user.html", "user_form", user=user, form=form, status=422 if form.errors or form.form_errors else 200)
