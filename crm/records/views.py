"""List, show, create, edit, trash and restore for any record type, registered per blueprint."""
from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.extensions import db
from crm.i18n import _, ngettext
from crm.models import LeadStatus, Note, Pipeline, Territory
from crm.models.engagement import ACTIVITY_KINDS
from crm.models.mixins import utcnow
from crm.params import to_int
from crm.records.export import export_records
from crm.records.forms import BY_RULES, build_form, form_values
from crm.paging import paginate
from crm.rendering import render, wants_fragment
from crm.services import DomainError
from crm.services import assignment, engagement, history, lead_statuses, scoring
from crm.services.duplicates import find_similar
from crm.services.deal_restore import restore_one
from crm.services.editing import create_record, new_record_defaults, trash_record, update_record
from crm.services.fields import custom_fields, fields_of, record_page_rows
from crm.services.filters import distinct_values, filtered_select, owner_options, parse_filter
from crm.services.offers import offers
from crm.services.owners import via_of
from crm.services.permissions import can_edit, can_view, visible_clause
from crm.services.record_types import RecordType
from crm.services.related import related_records
from crm.services.saved_lists import list_for_filter
from crm.services.settings import enabled_types
from crm.services.sorting import sorted_select

def register_record_views(bp: Blueprint, rtype: RecordType) -> None:
    rules = [("/", "index", list_records, ["GET"]),
             ("/new", "new", new_record, ["GET", "POST"]),
             ("/export", "export", export_records, ["GET"]),
             ("/<int:record_id>", "show", show_record, ["GET"]),
             ("/<int:record_id>/edit", "edit", edit_record, ["GET", "POST"]),
             ("/<int:record_id>/trash", "trash", trash, ["POST"]),
             ("/<int:record_id>/restore", "restore", restore, ["POST"]),
             ("/<int:record_id>/notes", "add_note", add_note, ["POST"]),
             ("/<int:record_id>/activities", "add_activity", add_activity, ["POST"]),
             ("/<int:record_id>/emails", "log_email", log_email, ["POST"]),
             ("/<int:record_id>/activities/<int:activity_id>/done", "complete_activity", complete_activity, ["POST"]),
             ("/<int:record_id>/activities/<int:activity_id>/reopen", "reopen_activity", reopen_activity, ["POST"])]
    for rule, endpoint, view, methods in rules:
        bp.add_url_rule(rule, endpoint, login_required(partial(view, rtype)), methods=methods)


def list_records(rtype: RecordType):
    """The filtered, sorted, paginated list; htmx gets just the rows block."""
    flt = parse_filter(db.session, rtype, request.args, current_user)
    sort_key, stmt = sorted_select(filtered_select(rtype, flt, current_user), rtype, request.args.get("sort", ""))
    stmt = stmt.options(*(selectinload(getattr(rtype.model, r)) for r in rtype.relations))
    per_page = to_int(request.args.get("per_page"), low=1, high=200) or current_app.config["PER_PAGE"]
    pagination, notice = paginate(stmt, per_page)
    return render("records/list.html", "record_rows", rtype=rtype, flt=flt, pagination=pagination,
                  list_url=url_for(f"{rtype.plural}.index"),
                  columns=rtype.columns, sort=sort_key, notice=notice,
                  options=None if wants_fragment() else filter_options(rtype), filter_args=flt.to_args(),
                  offers=offers(db.session, current_user, rtype),
                  smart_list=list_for_filter(db.session, current_user, rtype.name, flt))


def filter_options(rtype: RecordType) -> dict:
    """Choices for the filter bar: only what the viewer may see."""
    model = rtype.model
    options = {
        "owners": owner_options(db.session, rtype, current_user),
        "territories": db.session.execute(select(Territory.id, Territory.name).order_by(Territory.name)).all(),
        "custom_fields": custom_fields(db.session, rtype.name),
        "sources": distinct_values(db.session, model.source, [visible_clause(model, current_user)]),
    }
    source = rtype.position_field.choices if rtype.position else None
    if source == "lead_status":
        options["statuses"] = db.session.execute(lead_statuses.ordered().with_only_columns(LeadStatus.id, LeadStatus.name)).all()
    elif source == "stage":
        options["pipelines"] = db.session.scalars(select(Pipeline).order_by(Pipeline.position)).all()
    return options


def get_visible(rtype: RecordType, record_id: int):
    record = db.session.get(rtype.model, record_id)
    if record is None:
        abort(404)
    if not can_view(current_user, record):
        abort(403, _("You cannot see this record: it belongs to someone else."))
    return record


def get_editable(rtype: RecordType, record_id: int):
    record = get_visible(rtype, record_id)
    if not can_edit(current_user, record):
        abort(403, _("You can view this record but not change it."))
    if getattr(record, "converted_at", None) is not None:
        abort(403, _("This lead was converted and is read-only."))
    return record


def show_record(rtype: RecordType, record_id: int):
    """The record page: details, timeline, activities and notes."""
    record = get_visible(rtype, record_id)
    return _show(rtype, record, "record_page")


def _show(rtype: RecordType, record, block: str, form=None, status: int = 200, push_url: str | None = None):
    return render("records/show.html", block, status=status, push_url=push_url, **_show_context(rtype, record, form))


def _show_context(rtype: RecordType, record, form=None) -> dict:
    events = db.session.scalars(history.timeline_select(rtype.name, record.id).limit(200)).all()
    activities = db.session.scalars(engagement.activities_select(rtype, record.id)).all()
    notes = db.session.scalars(select(Note).where(getattr(Note, f"{rtype.name}_id") == record.id)
                               .order_by(Note.created_at.desc())).all()
    emails = db.session.scalars(engagement.emails_select(rtype, record.id).limit(100)).all()
    details = record_page_rows([f for f in fields_of(db.session, rtype) if f.attr != rtype.title_column
                                and _may_see_link(f, record)])
    return dict(rtype=rtype, record=record, form=form, timeline=history.describe(db.session, events),
                activities=activities, notes=notes, emails=emails, details=details, now=utcnow(),
                offers=offers(db.session, current_user, rtype),
                editable=can_edit(current_user, record) and getattr(record, "converted_at", None) is None,
                activity_kinds=ACTIVITY_KINDS, related=related_records(db.session, rtype, record.id, current_user),
                linkable=set(enabled_types(db.session, current_user)),
                score_reasons=scoring.explain(db.session, record) if rtype.name == "lead" else [])


def _may_see_link(f, record) -> bool:
    """A linked contact or organization shows (with its email and phone) only to who may open it."""
    if f.choices not in ("contact", "organization"):
        return True
    target = getattr(record, f.relation)
    return target is None or can_view(current_user, target)


def new_record(rtype: RecordType):
    """Create form; on success go to the new record."""
    form = build_form(db.session, rtype, current_user)
    if request.method == "GET" and not form.owner.data:
        offered = any(choice.value == BY_RULES for choice in form.owner.choices)
        form.owner.data = BY_RULES if offered else f"user:{current_user.id}"
        if hasattr(form, "status"):
            form.status.data = str(new_record_defaults(db.session, rtype).get("status_id") or "")
    if form.validate_on_submit():
        try:
            record = create_record(db.session, rtype, form_values(db.session, form, rtype, current_user),
                                   current_user, owner_via=via_of(form.owner.data))
            if form.owner.data == BY_RULES:
                assignment.route_new(db.session, record, current_user)
        except DomainError as error:
            form.owner.errors.append(str(error))
        else:
            db.session.commit()
            flash(_created(rtype, getattr(record, rtype.title_column)))
            _warn_of_duplicates(rtype, record)
            return redirect(url_for(rtype.endpoint, record_id=record.id), code=303)
    return render("records/new.html", "record_form", rtype=rtype, form=form,
                  status=422 if form.errors else 200)


def _warn_of_duplicates(rtype: RecordType, record) -> None:
    """The create form warns while typing (with JS); this says it again, with links, once created."""
    if not rtype.similar:
        return
    matches = find_similar(db.session, rtype, record, current_user, limit=3)
    if matches:
        flash(Markup(render_template("merge/_created_duplicate.html", rtype=rtype, record=record, matches=matches)), "warning")


def edit_record(rtype: RecordType, record_id: int):
    """Edit form in place of the details; saving writes one history event per changed field."""
    record = get_editable(rtype, record_id)
    if record.deleted_at is not None:
        abort(409)
    form = build_form(db.session, rtype, current_user, record)
    if form.validate_on_submit():
        try:
            changes = update_record(db.session, record, form_values(db.session, form, rtype, current_user, record),
                                    current_user, owner_via=via_of(form.owner.data))
        except DomainError as error:
            form.owner.errors.append(str(error))
        else:
            db.session.commit()
            flash(ngettext("Saved %(num)s change.", "Saved %(num)s changes.", len(changes)) if changes
                  else _("Nothing changed."))
            page = url_for(rtype.endpoint, record_id=record.id)
            if wants_fragment():  # the record page again, at its own URL (a reload must not reopen the form)
                return _show(rtype, record, "record_main", push_url=page)
            return redirect(page, code=303)
    status = 422 if form.errors else 200
    return _show(rtype, record, "record_detail", form=form, status=status)


def trash(rtype: RecordType, record_id: int):
    """Move one record to the trash."""
    record = get_editable(rtype, record_id)
    trash_record(db.session, record, current_user)
    db.session.commit()
    flash(_("Moved to the trash. You can restore it from there."))
    return redirect(url_for(rtype.endpoint, record_id=record.id), code=303)


def restore(rtype: RecordType, record_id: int):
    """Bring one record back from the trash."""
    record = get_editable(rtype, record_id)
    try:
        flash(restore_one(db.session, rtype, record, current_user))
    except DomainError as error:
        flash(str(error), "error")
    db.session.commit()
    return redirect(url_for(rtype.endpoint, record_id=record.id), code=303)


def add_note(rtype: RecordType, record_id: int):
    """Attach a note; it shows in the timeline."""
    record = get_editable(rtype, record_id)
    return _change_child(rtype, record, engagement.add_note, request.form.get("body", ""))


def add_activity(rtype: RecordType, record_id: int):
    """Plan a call, meeting, task or email."""
    record = get_editable(rtype, record_id)
    form = request.form
    return _change_child(rtype, record, engagement.plan_activity,
                         form.get("kind", "task"), form.get("subject", ""), form.get("due_at"))


def log_email(rtype: RecordType, record_id: int):
    """Log an email sent or received outside the CRM."""
    record = get_editable(rtype, record_id)
    form = request.form
    return _change_child(rtype, record, engagement.log_email, form.get("subject", ""), form.get("sender", ""),
                         form.get("recipient", ""), form.get("sent_at"), form.get("body", ""))


def complete_activity(rtype: RecordType, record_id: int, activity_id: int):
    """Mark one of the record's activities done."""
    record = get_editable(rtype, record_id)
    activity = db.first_or_404(engagement.activity_of(rtype, record.id, activity_id))
    return _change_child(rtype, record, engagement.complete_activity, activity)


def reopen_activity(rtype: RecordType, record_id: int, activity_id: int):
    """Make one of the record's done activities open again."""
    record = get_editable(rtype, record_id)
    activity = db.first_or_404(engagement.activity_of(rtype, record.id, activity_id))
    return _change_child(rtype, record, engagement.reopen_activity, activity)


def _change_child(rtype: RecordType, record, change, *args):
    """Run an engagement service, commit or say why not, then show the side column (htmx) or the page."""
    try:
        change(db.session, rtype, record, *args, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
    if not wants_fragment():
        return redirect(url_for(rtype.endpoint, record_id=record.id), code=303)
    # The change wrote a history event: the timeline beside the swapped column follows, out of band.
    return render("records/show.html", "record_side", oob_blocks=("timeline",), timeline_oob=True,
                  **_show_context(rtype, record))


def _created(rtype: RecordType, title: str) -> str:
    """'Lead “Acme roof” created.': one sentence per type, so each language inflects its noun."""
    if rtype.name == "lead":
        return _("Lead “%(title)s” created.", title=title)
    if rtype.name == "deal":
        return _("Deal “%(title)s” created.", title=title)
    if rtype.name == "contact":
        return _("Contact “%(title)s” created.", title=title)
    return _("Organization “%(title)s” created.", title=title)
