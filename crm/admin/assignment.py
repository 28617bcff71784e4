"""Assignment rules in the administration: add, reorder and remove (the first that holds wins)."""
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from crm.admin.routes import bp
from crm.extensions import db
from crm.i18n import _
from crm.models import AssignmentRule
from crm.rendering import render
from crm.admin.scoring import submitted
from crm.services import assignment, owners
from crm.services.lead_conditions import ASSIGNMENT_KINDS

CONDITION_ROWS = 3
MOVES = {"up": -1, "down": 1}


@bp.route("/assignment", methods=["GET", "POST"])
def assignment_rules():
    """The assignment rules in their order, and a form to add one (POST)."""
    error = None
    if request.method == "POST":
        form = request.form
        wanted = [(form.get(f"kind_{i}", ""), form.get(f"value_{i}", "")) for i in range(CONDITION_ROWS)]
        error, done = submitted(lambda: assignment.add_rule(db.session, current_user, form.get("name", ""), wanted,
                                                            form.get("owner", "")),
                                _("Assignment rule added."), "admin.assignment_rules")
        if done:
            return done
    rules = [(r, assignment.describe(db.session, r), assignment.owner_label(db.session, r))
             for r in assignment.rules(db.session)]
    owner_choices = [(owners.TERRITORY_OWNER, _("The territory's owner")),
                     *owners.owner_choices(db.session, current_user, "lead")]
    return render("admin/assignment.html", "assignment_page", status=422 if error else 200, rules=rules, error=error,
                  kinds=ASSIGNMENT_KINDS, rows=range(CONDITION_ROWS), owner_choices=owner_choices, form=request.form)


@bp.post("/assignment/<int:assignment_id>/move")
def move_assignment_rule(assignment_id: int):
    """One place earlier or later in the order."""
    step = MOVES.get(request.form.get("direction", "")) or abort(400, "Move a rule up or down.")
    assignment.move_rule(db.session, current_user, db.get_or_404(AssignmentRule, assignment_id), step)
    db.session.commit()
    return redirect(url_for("admin.assignment_rules"), code=303)


@bp.post("/assignment/<int:assignment_id>/delete")
def delete_assignment_rule(assignment_id: int):
    """Remove a rule; leads it routed keep their owners."""
    assignment.delete_rule(db.session, current_user, db.get_or_404(AssignmentRule, assignment_id))
    db.session.commit()
    flash(_("Assignment rule removed. Leads it routed keep their owners."))
    return redirect(url_for("admin.assignment_rules"), code=303)
