"""Similar records, the duplicates overview, the side-by-side merge panel and Undo merge.

Stable URLs (issue 5's "Merge with existing" links here): `url_for("merge.panel",
plural="leads", ids="12,14")` -> /leads/merge?ids=12,14 (GET shows the panel, POST merges).
"""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import _
from crm.merge.panel import build_panel
from crm.models import Batch, User
from crm.params import optional_id
from crm.records.views import get_visible
from crm.paging import requested_page, shown_page
from crm.rendering import render
from crm.services import DomainError, PermissionDenied, merge
from crm.services.duplicates import duplicate_groups, find_similar
from crm.services.owners import check_owner_kept, resolve_owner
from crm.services.permissions import can_edit
from crm.services.record_types import RECORD_TYPES, RecordType

bp = Blueprint("merge", __name__)
SIMILAR = "<any(leads,contacts,organizations):plural>"
MERGEABLE = "<any(leads,deals,contacts,organizations):plural>"
BY_PLURAL = {t.plural: t for t in RECORD_TYPES.values()}
GROUPS_PER_PAGE = 25


@bp.get(f"/{SIMILAR}/<int:record_id>/similar")
@login_required
def similar(plural: str, record_id: int):
    """The records like this one, each with why it matched; pick some and merge."""
    rtype = BY_PLURAL[plural]
    record = get_visible(rtype, record_id)
    matches = find_similar(db.session, rtype, record, current_user, limit=50)
    likely = [m.id for m in matches if m.likely][:merge.MAX_RECORDS - 1]
    model = rtype.model
    owners = dict(db.session.execute(select(model.id, User.name).join(User, User.id == model.owner_id)
                                     .where(model.id.in_([m.id for m in matches]))).all())
    return render("merge/similar.html", "similar", rtype=rtype, record=record, matches=matches,
                  preselected=likely, editable=can_edit(current_user, record), owners=owners,
                  list_ids=",".join(str(i) for i in [record.id, *(m.id for m in matches)]))


@bp.get(f"/{SIMILAR}/<int:record_id>/similar/link")
@login_required
def similar_link(plural: str, record_id: int):
    """The lazily loaded "Similar leads (N)" button of the record page (empty when N is 0)."""
    rtype = BY_PLURAL[plural]
    record = get_visible(rtype, record_id)
    count = len(find_similar(db.session, rtype, record, current_user, limit=50))
    return render_template("merge/_similar_link.html", rtype=rtype, record=record, count=count)


@bp.get(f"/{SIMILAR}/similar-check")
@login_required
def check_new(plural: str):
    """The create form's "possible duplicate of ..." notice for the values typed so far."""
    rtype = BY_PLURAL[plural]
    values = {f.attr: request.args.get(f.form_name, "") for f in rtype.probe_fields}
    matches = find_similar(db.session, rtype, values, current_user, limit=3)
    return render_template("merge/_new_notice_result.html", rtype=rtype, matches=matches)


@bp.get(f"/{SIMILAR}/duplicates")
@login_required
def duplicates(plural: str):
    """Groups of likely duplicates across the records the user may see, best first."""
    rtype = BY_PLURAL[plural]
    groups = duplicate_groups(db.session, rtype, current_user)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page, notice = shown_page(requested_page(request.args.get("page")), pages)
    shown = groups[(page - 1) * GROUPS_PER_PAGE:page * GROUPS_PER_PAGE]
    ids = [i for g in shown for i in g.ids[:merge.MAX_RECORDS]]
    records = {r.id: r for r in db.session.scalars(select(rtype.model).where(rtype.model.id.in_(ids)))}
    return render("merge/duplicates.html", "duplicate_groups", rtype=rtype, groups=shown, records=records,
                  total=len(groups), page=page, pages=pages, notice=notice,
                  editable={i for i, r in records.items() if can_edit(current_user, r)})


@bp.route(f"/{MERGEABLE}/merge", methods=["GET", "POST"])
@login_required
def panel(plural: str):
    """GET: the records side by side with a radio per value; POST: merge them (one transaction)."""
    rtype = BY_PLURAL[plural]
    ids = [part for value in request.values.getlist("ids") for part in value.split(",")]
    if request.method == "POST":
        return _merge(rtype, ids)
    try:
        records = merge.ranked(db.session, rtype, ids, current_user)
    except DomainError as error:
        return _refused(rtype, error)
    return render("merge/panel.html", "merge_panel", rtype=rtype,
                  panel=build_panel(db.session, rtype, records, current_user, request.args.get("survivor")))


def _merge(rtype: RecordType, ids: list[str]):
    form = request.form
    choices = {k.removeprefix("pick_"): v for k, v in form.items() if k.startswith("pick_")}
    try:
        owner = resolve_owner(db.session, form["owner"], current_user, rtype.name) if "owner" in form else merge.KEEP
        if owner is None:
            check_owner_kept(owner, current_user)
        team = optional_id(form["team"], "team") if "team" in form else merge.KEEP
        result = merge.merge_records(db.session, rtype, ids, form.get("survivor"), choices, current_user,
                                     owner_id=getattr(owner, "id", owner), team_id=team)
    except DomainError as error:
        db.session.rollback()
        return _refused(rtype, error, ids)
    db.session.commit()
    flash(f"Merged {len(result.merged) + 1} {rtype.plural} into “{getattr(result.survivor, rtype.title_column)}”: "
          f"{_ids(result.merged)} moved to the trash. Undo merge is in its history.")
    return redirect(url_for(rtype.endpoint, record_id=result.survivor.id), code=303)


def _refused(rtype: RecordType, error: DomainError, ids: list[str] | None = None):
    """The error, above the panel again when the records themselves are fine (e.g. a bad owner)."""
    panel = None
    if ids:
        try:
            panel = build_panel(db.session, rtype, merge.ranked(db.session, rtype, ids, current_user), current_user,
                                request.form.get("survivor"))
        except DomainError:
            panel = None
    status = 403 if isinstance(error, PermissionDenied) else 422
    return render("merge/panel.html", "merge_panel", status=status, rtype=rtype, panel=panel, error=str(error))


@bp.get("/merges/<batch_id>/undo")
@login_required
def undo_page(batch_id: str):
    """Undo merge, asked first: what changed on the kept record since the merge, to keep or put back."""
    try:
        plan = merge.undo_plan(db.session, batch_id, current_user)
    except merge.NoSuchMerge:
        abort(404)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(_survivor_url(db.session.get(Batch, batch_id)), code=303)
    return render("merge/undo.html", "merge_undo", plan=plan)


@bp.post("/merges/<batch_id>/undo")
@login_required
def undo(batch_id: str):
    """Undo merge: the merged records come back with their activities, notes and emails; when the kept
    record changed since, the user first says which of those changes to keep (the undo page)."""
    try:
        plan = merge.undo_plan(db.session, batch_id, current_user)
        if plan.changed and "decided" not in request.form:
            return redirect(url_for("merge.undo_page", batch_id=batch_id), code=303)
        revert = {c.name for c in plan.changed if request.form.get(f"change_{c.name}") == "revert"}
        result = merge.undo_merge(db.session, batch_id, current_user, revert)
    except merge.NoSuchMerge:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_survivor_url(db.session.get(Batch, batch_id)), code=303)
    db.session.commit()
    message = _("Merge undone: %(ids)s restored with their activities, notes and emails.", ids=_ids(result.merged))
    kept = [c.label for c in plan.changed if c.name not in revert]
    if kept:
        message += " " + _("Kept as changed since the merge: %(fields)s.", fields=", ".join(kept))
    flash(message)
    return redirect(_survivor_url(db.session.get(Batch, batch_id)), code=303)


def _survivor_url(batch: Batch) -> str:
    return url_for(RECORD_TYPES[batch.record_type].endpoint, record_id=batch.params["survivor"])


def _ids(records: list) -> str:
    return ", ".join(f"#{r.id}" for r in records)


@bp.app_template_global("merge_undoable")
def merge_undoable(batch_id: str | None) -> bool:
    """Whether a survivor's merge event still offers Undo merge (not undone yet)."""
    batch = db.session.get(Batch, batch_id) if batch_id else None
    return batch is not None and batch.action == "merge" and batch.undone_at is None
