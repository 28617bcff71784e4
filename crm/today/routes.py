"""My day (/today): the signed-in user's due activities and best unplanned leads, with one-tap actions."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from crm.extensions import db
from crm.i18n import _
from crm.models import Activity, Lead
from crm.models.mixins import utcnow
from crm.rendering import render, wants_fragment
from crm.services import DomainError, engagement, my_day
from crm.services.permissions import can_edit
from crm.services.record_types import LEAD

bp = Blueprint("today", __name__, url_prefix="/today")


@bp.before_request
@login_required
def require_login():
    """Every page here is the signed-in user's own."""


@bp.get("/")
def index():
    """Today's and overdue activities, then the best leads with nothing planned."""
    return _page()


@bp.post("/activities/<int:activity_id>/done")
def complete(activity_id: int):
    """Mark an activity done (who may change its record may, as on the record page)."""
    activity = db.get_or_404(Activity, activity_id)
    rtype, record = my_day.record_of(db.session, activity)
    if record is None or not can_edit(current_user, record):  # the record page's rule
        abort(403, _("You cannot change this activity's record."))
    return _act(lambda: engagement.complete_activity(db.session, rtype, record, activity, current_user),
                _("Done: %(subject)s.", subject=activity.subject))


@bp.post("/leads/<int:lead_id>/call")
def log_call(lead_id: int):
    """Log a call made just now on one of my leads."""
    lead = _my_lead(lead_id)
    return _act(lambda: my_day.log_call(db.session, lead, current_user), _("Call logged on %(lead)s.", lead=lead.title))


@bp.post("/leads/<int:lead_id>/plan")
def plan_next(lead_id: int):
    """Plan the next activity on one of my leads."""
    lead, form = _my_lead(lead_id), request.form
    return _act(lambda: engagement.plan_activity(db.session, LEAD, lead, form.get("kind", "call"),
                                                 form.get("subject", ""), form.get("due_at"), current_user),
                _("Planned on %(lead)s.", lead=lead.title))


def _my_lead(lead_id: int) -> Lead:
    lead = db.get_or_404(Lead, lead_id)
    if not can_edit(current_user, lead):
        abort(403, _("You cannot change this lead."))
    return lead


def _act(action, message: str):
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(message)
    if wants_fragment():
        return _page()
    return redirect(url_for("today.index"), code=303)


def _page():
    now = utcnow()
    activities = [(a, *my_day.record_of(db.session, a))
                  for a in db.session.scalars(my_day.due_activities(current_user, now))]
    return render("today/index.html", "today_page", activities=activities, now=now,
                  leads=db.session.scalars(my_day.leads_to_plan(current_user)).all())
