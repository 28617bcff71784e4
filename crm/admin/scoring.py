"""Scoring rules in the administration: add and remove; every lead's score follows at once."""
from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm.admin.routes import bp
from crm.extensions import db
from crm.i18n import _
from crm.models import LeadStatus, ScoringRule, Territory
from crm.rendering import render
from crm.services import DomainError, scoring
from crm.services.lead_conditions import KINDS, describe


@bp.route("/scoring", methods=["GET", "POST"])
def scoring_rules():
    """The scoring rules, and a form to add one (POST)."""
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            scoring.add_rule(db.session, current_user, form.get("kind", ""), form.get("value", ""),
                             form.get("points", ""))
        except DomainError as refusal:
            db.session.rollback()
            error, status = str(refusal), 422
        else:
            db.session.commit()
            flash(_("Scoring rule added; every lead's score is up to date."))
            return redirect(url_for("admin.scoring_rules"), code=303)
    rules = [(r, describe(db.session, r.kind, r.value)) for r in scoring.rules(db.session)]
    return render("admin/scoring.html", "scoring_page", status=status, rules=rules, kinds=KINDS, error=error,
                  form=request.form, territories=db.session.scalars(db.select(Territory).order_by(Territory.name)),
                  statuses=db.session.scalars(db.select(LeadStatus).order_by(LeadStatus.position)))


@bp.post("/scoring/<int:rule_id>/delete")
def delete_scoring_rule(rule_id: int):
    """Remove a scoring rule; every lead's score follows."""
    scoring.delete_rule(db.session, current_user, db.get_or_404(ScoringRule, rule_id))
    db.session.commit()
    flash(_("Scoring rule removed; every lead's score is up to date."))
    return redirect(url_for("admin.scoring_rules"), code=303)
