"""Lead statuses in the administration: rename, change kind, reorder, remove (leads move)."""
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from crm.admin.forms import LeadStatusForm, RemoveStatusForm
from crm.admin.routes import bp
from crm.extensions import db
from crm.form_choices import select_choices
from crm.models import LeadStatus
from crm.rendering import render
from crm.services import DomainError
from crm.services import lead_statuses as service

MOVES = {"up": -1, "down": 1}


@bp.route("/statuses/<int:status_id>", methods=["GET", "POST"])
def edit_status(status_id: int):
    """Rename a status or change its kind; the page also offers its removal."""
    status = db.get_or_404(LeadStatus, status_id)
    form = LeadStatusForm(obj=status)
    if form.validate_on_submit():
        try:
            changes = service.update_status(db.session, current_user, status, form.name.data, form.kind.data)
        except DomainError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(f"Saved status “{status.name}”." if changes else "Nothing to change.")
            return redirect(url_for("admin.index"), code=303)
    return _page(status, form, _remove_form(status))


@bp.post("/statuses/<int:status_id>/move")
def move_status(status_id: int):
    """Move a status one place up or down in every list of statuses."""
    status = db.get_or_404(LeadStatus, status_id)
    if request.form.get("direction") not in MOVES:
        abort(400, "Move a status up or down.")
    try:
        service.move_status(db.session, current_user, status, MOVES[request.form["direction"]])
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Moved “{status.name}” {request.form['direction']}.")
    return redirect(url_for("admin.index", _anchor="status-heading"), code=303)


@bp.post("/statuses/<int:status_id>/remove")
def remove_status(status_id: int):
    """Remove a status; the leads that use it move to the replacement the admin chose."""
    status = db.get_or_404(LeadStatus, status_id)
    form = _remove_form(status)
    if form.validate_on_submit():
        replacement = db.session.get(LeadStatus, int(form.replacement.data)) if form.replacement.data else None
        try:
            outcome = service.remove_status(db.session, current_user, status, replacement)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(outcome.message)
            if outcome.batch:
                return redirect(url_for("bulk.show_batch", batch_id=outcome.batch.id), code=303)
            return redirect(url_for("admin.index"), code=303)
    return _page(db.get_or_404(LeadStatus, status_id), LeadStatusForm(obj=status), form)


def _remove_form(status: LeadStatus) -> RemoveStatusForm:
    form = RemoveStatusForm(prefix="remove")
    others = [s for s in db.session.scalars(service.ordered()) if s.id != status.id]
    form.replacement.choices = select_choices(((str(s.id), f"{s.name} ({s.kind})") for s in others),
                                              blank="Choose a status")
    return form


def _page(status: LeadStatus, form: LeadStatusForm, remove_form: RemoveStatusForm):
    failed = form.errors or form.form_errors or remove_form.errors or remove_form.form_errors
    return render("admin/status.html", "status_page", status=422 if failed else 200, lead_status=status,
                  form=form, remove_form=remove_form, used=service.usage(db.session).get(status.id, 0))
