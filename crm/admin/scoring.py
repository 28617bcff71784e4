"""Scoring rules in the administration: add and remove; every lead's score follows at once."""
from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm.admin.routes import bp
from crm.extensions import db
from crm.i18n import _
from crm.models import ScoringRule, Territory
from crm.rendering import render
from crm.services import DomainError, lead_statuses, scoring
from crm.services.lead_conditions import KINDS, describe


@bp.route("/scoring", methods=["GET", "POST"])
def scoring_rules():
    """The scoring rules, and a form to add one (POST)."""
    error = None
    if request.method == "POST":
        form = request.form
        error, done = submitted(lambda: scoring.add_rule(db.session, current_user, form.get("kind", ""),
                                                         form.get("value", ""), form.get("points", "")),
                                _("Scoring rule added; every lead's score is up to date."), "admin.scoring_rules")
        if done:
            return done
    rules = [(r, describe(db.session, r.kind, r.value)) for r in scoring.rules(db.session)]
    return render("admin/scoring.html", "scoring_page", status=422 if error else 200, rules=rules, kinds=KINDS, error=error,
                  form=request.form, territories=db.session.scalars(db.select(Territory).order_by(Territory.name)),
                  statuses=db.session.scalars(lead_statuses.ordered()))


@bp.post("/scoring/<int:rule_id>/delete")
def delete_scoring_rule(rule_id: int):
    """Remove a scoring rule; every lead's score follows."""
    scoring.delete_rule(db.session, current_user, db.get_or_404(ScoringRule, rule_id))
    db.session.commit()
    flash(_("Scoring rule removed; every lead's score is up to date."))
    return redirect(url_for("admin.scoring_rules"), code=303)


def submitted(action, message: str, endpoint: str):
    """Run a rule change from a form: (None, redirect) once saved, (the refusal, None) when refused."""
    try:
        action()
    except DomainError as refusal:
        db.session.rollback()
        return str(refusal), None
    db.session.commit()
    flash(message)
    return None, redirect(url_for(endpoint), code=303)
