"""Mass change drawer, its confirmation, the batch page and Undo.

Contract other views rely on (the list, the kanban, the map lasso):

* ``GET`` or ``POST /bulk/drawer`` (endpoint ``bulk.drawer``) opens the drawer. Arguments (query
  string or form body): ``type`` (lead|deal|contact|organization), the filter arguments of
  crm/services/filters.py, ``ids`` (repeated or comma-separated; POST them when there are
  thousands) or ``all=1`` (every record matching the filter), optional ``skip_owner`` (user id or
  ``none``). The set is always intersected with what the viewer may edit; ticked ids outside it
  are ignored and reported. Opening never changes anything, whatever the method.
* For htmx requests the answer is the drawer fragment (``<aside id="bulk-drawer">``); swap it into
  ``#drawer`` (base.html has that empty element) with ``hx-target="#drawer"``. Without JS it is a
  full page.
* After a change is applied the htmx response carries ``HX-Trigger: records-changed``; the list
  refreshes #record-rows on that event (static/js/app.js) and other views may listen for it too.
* ``/bulk/<batch_id>`` (``bulk.show_batch``) shows a batch with Undo (7 days); ``/trash``
  (``bulk.trash``) lists deleted records with Restore; ``flask --app wsgi purge-trash --older-than 30d``.

Only admins and managers (within their team) may open or apply; delete is admin-only.
"""
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.bulk import background
from crm.bulk.forms import ActionRequest, BadSelection, read_action, read_selection, selection_args
from crm.extensions import db
from crm.i18n import _, ngettext
from crm.models import Batch, HistoryEvent, Pipeline
from crm.paging import paginate
from crm.params import to_id
from crm.rendering import render, wants_fragment
from crm.services import DomainError, PermissionDenied
from crm.services import assignment, bulk, lead_statuses
from crm.services.history import describe, may_see_batch
from crm.services.owners import choice_label, owner_choices
from crm.services.permissions import may_mass_change, may_purge, visible_clause
from crm.services.record_types import RECORD_TYPES
from crm.services.trash import UNDO_DAYS, batch_records, undo_batch, undo_state

bp = Blueprint("bulk", __name__, cli_group=None)
REFRESH_EVENT = "records-changed"


@bp.route("/bulk/drawer", methods=["GET", "POST"])
@login_required
def drawer():
    """The drawer: count, breakdown by owner and stage, the three actions. Never writes."""
    _require(may_mass_change(current_user), _("Only admins and managers can make mass changes."))
    return _drawer(_selection(), ActionRequest(action=request.values.get("action", ""),
                                               new_owner=request.values.get("new_owner", ""),
                                               new_stage=to_id(request.values.get("new_stage"))))


@bp.post("/bulk/apply")
@login_required
def apply():
    """Re-check the word and the count, then apply the action to the whole set in one transaction."""
    _require(may_mass_change(current_user), _("Only admins and managers can make mass changes."))
    sel, req = _selection(), read_action(request.form)
    _require(req.action != "delete" or may_purge(current_user), _("Only admins can delete records in bulk."))
    if req.errors:
        return _drawer(sel, req, status=422)
    if (req.count or 0) > current_app.config["BULK_INLINE_LIMIT"]:
        return _in_background(sel, req)
    ignored = len(bulk.ignored_ids(db.session, sel))
    outcome, refusal = _attempt(sel, req)
    if refusal is not None:
        return refusal
    db.session.commit()
    return _done(sel, outcome, outcome.message + _left_out(ignored))


def _in_background(sel: bulk.Selection, req: ActionRequest):
    """A large set: a job does it and notifies the user; the drawer (or a page) follows its progress."""
    job = background.start(db.session, current_user, [*selection_args(sel), *_origin_args()], req,
                           url_for("bulk.show_batch", batch_id=background.BATCH))
    if not wants_fragment():
        return redirect(url_for("jobs.show_job", job_id=job.id), code=303)
    return render("bulk/drawer.html", "drawer", sel=sel, job=job, list_url=_list_url(sel), page=False,
                  count_phrase=lambda n: bulk.count_phrase(n, sel.rtype))


def _attempt(sel: bulk.Selection, req: ActionRequest):
    """(outcome, None), or (None, the drawer again saying why) after a rollback: nothing half-applied."""
    try:
        return _run(sel, req), None
    except PermissionDenied as error:
        db.session.rollback()
        abort(403, str(error))
    except bulk.StaleSelection as error:
        db.session.rollback()
        again = ActionRequest(req.action, new_owner=req.new_owner, new_stage=req.new_stage)
        return None, _drawer(sel, again, status=409, message=str(error))
    except DomainError as error:
        db.session.rollback()
        return None, _drawer(sel, req, status=422, message=_("%(refusal)s Nothing was changed.", refusal=error))
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Mass change failed")
        return None, _drawer(sel, req, status=500, message=_(
            "The mass change failed half-way and was rolled back: nothing was changed. Try again in a moment."))


def _left_out(ignored: int) -> str:
    if not ignored:
        return ""
    return " " + ngettext("%(num)s ticked record you cannot change (or no longer matching) was left out.",
                          "%(num)s ticked records you cannot change (or no longer matching) were left out.",
                          ignored)


def _run(sel: bulk.Selection, req: ActionRequest) -> bulk.Outcome:
    # No count or set seen (a hand-made request): always show the drawer and ask again.
    expected = req.count if req.count is not None else -1
    return bulk.apply_action(db.session, sel, req.action, new_owner=req.new_owner, new_stage=req.new_stage,
                             expected=expected, pinned=req.pinned or "none seen")


def _done(sel: bulk.Selection, outcome: bulk.Outcome, message: str):
    """The one message about what happened, with Undo beside it: in the drawer, or on the batch page."""
    if not wants_fragment():
        flash(message)
        target = url_for("bulk.show_batch", batch_id=outcome.batch.id) if outcome.batch else _list_url(sel)
        return redirect(target, code=303)
    return render("bulk/drawer.html", "drawer", sel=sel, outcome=outcome, done_message=message,
                  list_url=_list_url(sel), page=False, trigger=REFRESH_EVENT)


def _origin_args() -> list[tuple[str, str]]:
    """Where the drawer was opened (the list, the board or the map), for its wording."""
    origin = request.values.get("from", "")
    return [("from", origin)] if origin in ("board", "map") else []


def _selection() -> bulk.Selection:
    try:
        return read_selection(db.session, request.values, current_user)
    except BadSelection as error:
        abort(400, str(error))


def _drawer(sel: bulk.Selection, req: ActionRequest, status: int = 200, message: str | None = None):
    rtype = sel.rtype
    usable = not sel.flt.errors
    preview = bulk.preview(db.session, sel) if usable else None
    stages = _stage_choices(rtype)
    return render("bulk/drawer.html", "drawer", status=status, sel=sel, req=req, preview=preview,
                  message=message, hidden=selection_args(sel), list_url=_list_url(sel),
                  owner_choices=owner_choices(db.session, current_user, rtype.name),
                  owner_label=choice_label(db.session, req.new_owner) if req.new_owner else None,
                  stage_choices=stages, stage_label=dict(o for _, group in stages for o in group).get(req.new_stage),
                  may_delete=may_purge(current_user),
                  routes=assignment.preview_rules(db.session, sel) if usable and rtype.name == "lead"
                  and may_mass_change(current_user) and assignment.rules(db.session) else None, count_phrase=lambda n: bulk.count_phrase(n, rtype),
                  words=bulk.WORDS, page=not wants_fragment(), origin=dict(_origin_args()).get("from", "list"))


def _stage_choices(rtype) -> list[tuple[str, list[tuple[int, str]]]]:
    """The record type's pipeline positions: stages grouped by pipeline, or the lead statuses."""
    source = rtype.position_field.choices if rtype.position else None
    if source == "stage":
        pipelines = db.session.scalars(select(Pipeline).order_by(Pipeline.position)).all()
        return [(p.name, [(s.id, s.name) for s in p.stages]) for p in pipelines]
    if source == "lead_status":
        statuses = db.session.scalars(lead_statuses.ordered()).all()
        return [("", [(s.id, s.name) for s in statuses])]
    return []


def _list_url(sel: bulk.Selection) -> str:
    return url_for(f"{sel.rtype.plural}.index") + _query(sel.flt.to_args())


def _query(args: list[tuple[str, str]]) -> str:
    return "?" + urlencode(args) if args else ""


@bp.get("/bulk/<batch_id>")
@login_required
def show_batch(batch_id: str):
    """What a batch did, who and when, its records, and Undo for 7 days."""
    batch = db.get_or_404(Batch, batch_id)
    if not may_see_batch(db.session, batch, current_user):
        abort(404)
    rtype = RECORD_TYPES.get(batch.record_type)
    pagination = events = notice = None
    if rtype is not None:
        model = rtype.model
        stmt = (select(model).where(model.id.in_(batch_records(batch)), visible_clause(model, current_user))
                .order_by(model.id))
        pagination, notice = paginate(stmt, per_page=50)
        ids = [r.id for r in pagination.items]
        rows = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.batch_id == batch.id, HistoryEvent.record_type == batch.record_type,
            HistoryEvent.record_id.in_(ids)).order_by(HistoryEvent.id)).all()
        events = {}
        for view in describe(db.session, rows):
            events.setdefault(view.event.record_id, []).append(view.text)
    return render("bulk/batch.html", "batch", batch=batch, rtype=rtype, pagination=pagination, notice=notice,
                  events=events or {}, state=undo_state(db.session, batch, current_user),
                  undo_until=batch.at + timedelta(days=UNDO_DAYS))


@bp.post("/bulk/<batch_id>/undo")
@login_required
def undo(batch_id: str):
    """Put the batch's records back as they were (records changed since only when insisted)."""
    batch = db.get_or_404(Batch, batch_id)
    include_changed = request.form.get("undo_changed") == "1"
    if batch.count > current_app.config["BULK_INLINE_LIMIT"] and undo_state(db.session, batch, current_user).possible:
        job = background.start_undo(db.session, current_user, batch, include_changed,
                                    url_for("bulk.show_batch", batch_id=batch_id))
        return redirect(url_for("jobs.show_job", job_id=job.id), code=303)
    run_and_flash(lambda: undo_batch(db.session, batch_id, current_user, include_changed=include_changed))
    return redirect(url_for("bulk.show_batch", batch_id=batch_id), code=303)


def run_and_flash(operation: Callable[[], bulk.Outcome]) -> None:
    """Commit a service's outcome and flash its message; refusals roll back and say why (403 for permission)."""
    try:
        outcome = operation()
    except PermissionDenied as error:
        db.session.rollback()
        abort(403, str(error))
    except DomainError as error:
        db.session.rollback()
        flash(_("%(refusal)s Nothing was changed.", refusal=error), "error")
    else:
        db.session.commit()
        flash(outcome.message or _("Nothing was changed."))


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        abort(403, message)

