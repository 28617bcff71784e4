"""Conversion pages: deal -> lead (one, or a selection/filter), lead -> contact/organization/deal."""
from babel.lists import format_list
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.formatting import current_locale
from crm.i18n import _
from crm.pipeline.forms import DEAL_POOLS, build_convert_form, plan_from
from crm.pipeline.routes import bp
from crm.records.views import get_visible
from crm.rendering import render
from crm.services import DomainError, PermissionDenied
from crm.services.conversion import (
    INLINE_LIMIT, AlreadyConverted, conversion_message, convert_deal_to_lead, convert_deals_to_leads,
    convert_lead, deal_ids_for, may_convert_deals, similar_records,
)
from crm.services.filters import parse_filter
from crm.services.jobs import create_job
from crm.services.permissions import can_edit
from crm.services.record_types import DEAL, LEAD, record_type_of
from crm.tasks import run_job

JOB_FUNCTION = "crm.services.conversion:convert_deals_job"


@bp.route("/deals/<int:deal_id>/convert-to-lead", methods=["GET", "POST"])
@login_required
def convert_deal(deal_id: int):
    """GET asks to confirm; POST converts one deal into a lead (the deal goes to the trash) and opens the lead."""
    deal = get_visible(DEAL, deal_id)
    if request.method == "GET":
        return _confirm_deal_conversion(deal)
    try:
        result = convert_deal_to_lead(db.session, deal, current_user)
    except PermissionDenied as error:
        abort(403, str(error))
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("deals.show", record_id=deal_id), code=303)
    db.session.commit()
    flash(_("“%(title)s” is now a lead; the deal is in the trash.", title=result.lead.title) if result.created
          else _("This deal was already converted to this lead."))
    return redirect(url_for("leads.show", record_id=result.lead.id), code=303)


def _confirm_deal_conversion(deal):
    if not (may_convert_deals(db.session, current_user) and can_edit(current_user, deal)):
        abort(403, _("You may not convert this deal to a lead."))
    if deal.deleted_at is not None:
        flash(_("This deal is in the trash: restore it before converting it."), "error")
        return redirect(url_for("deals.show", record_id=deal.id), code=303)
    return render("pipeline/convert_deal.html", "convert_deal", deal=deal)


@bp.post("/deals/convert-to-lead")
@login_required
def convert_deals():
    """Convert the selected deals, or all the filter matches, after a confirmation (a job if large)."""
    if not may_convert_deals(db.session, current_user):
        abort(403, _("You may not convert deals to leads."))
    args = _selection(request.form)
    ids = _convertible_ids(args)
    if not ids:
        return redirect(url_for("deals.index"), code=303)
    if request.form.get("confirm") != "1" or request.form.get("count") != str(len(ids)):
        return render("pipeline/convert_deals.html", "convert_deals", count=len(ids),
                      changed=request.form.get("confirm") == "1", was=request.form.get("count", ""),
                      args=list(args.items(multi=True)))
    return _convert_now(ids) if len(ids) <= INLINE_LIMIT else _convert_in_background(ids)


def _convertible_ids(args: MultiDict | None) -> list[int]:
    """The deal ids to convert; an empty list (with a message) when there are none."""
    if args is None:
        flash(_("Select the deals to convert, or tick “Select all” to convert the whole filter result."), "error")
        return []
    try:
        ids = deal_ids_for(db.session, parse_filter(db.session, DEAL, args, current_user), current_user)
    except DomainError as error:
        flash(str(error), "error")
        return []
    if not ids:
        flash(_("None of these deals can be converted: they are gone or not yours to change."), "error")
    return ids


def _convert_now(ids: list[int]):
    result = convert_deals_to_leads(db.session, ids, current_user)
    db.session.commit()
    flash(conversion_message(result))
    return redirect(url_for("leads.index", source="Deal"), code=303)


def _convert_in_background(ids: list[int]):
    job = create_job(db.session, "deal_conversion", current_user, JOB_FUNCTION, total=len(ids),
                     ids=ids, link=url_for("leads.index", source="Deal"))
    run_job(job.id)
    return redirect(url_for("jobs.show_job", job_id=job.id), code=303)


def _selection(form) -> MultiDict | None:
    """The filter arguments, with the ticked ids unless "all matching" was chosen; None if neither."""
    args = MultiDict([(k, v) for k, v in form.items(multi=True)
                      if k not in ("csrf_token", "confirm", "count", "type", "all", "ids")])
    if form.get("all") == "1":
        return args
    ids = [v for v in form.getlist("ids") if v.strip()]
    if not ids:
        return None
    args.setlist("ids", [",".join(ids)])
    return args


@bp.route("/leads/<int:lead_id>/convert", methods=["GET", "POST"])
@login_required
def convert_lead_dialog(lead_id: int):
    """The Convert dialog of a lead; converting twice creates nothing twice."""
    lead = get_visible(LEAD, lead_id)
    if lead.converted_at is not None:
        flash(_("This lead was already converted."))
        return redirect(url_for("leads.show", record_id=lead.id), code=303)
    if not can_edit(current_user, lead):
        abort(403, _("You can view this lead but not convert it."))
    form = build_convert_form(db.session, lead, current_user)
    leads, deals = similar_records(db.session, lead, current_user)
    error = None
    if form.validate_on_submit():
        if request.form.get("action") == "merge" and leads:
            return redirect(merge_url([lead.id] + [other.record.id for other in leads]), code=303)
        done, error = _convert_lead(lead, form)
        if done is not None:
            return done
    return render("pipeline/convert_lead.html", "convert_form", status=422 if form.errors or error else 200,
                  lead=lead, form=form, error=error, similar_leads=leads, similar_deals=deals,
                  deal_pools=[c.value for c in form.owner.choices if c.optgroup == str(DEAL_POOLS)])


def _convert_lead(lead, form):
    """Convert and go to what the lead became; (None, the reason) when refused."""
    try:
        result = convert_lead(db.session, lead, current_user, plan_from(form))
    except AlreadyConverted as error:
        db.session.rollback()
        flash(str(error))
        return redirect(url_for("leads.show", record_id=lead.id), code=303), None
    except DomainError as error:
        db.session.rollback()
        return None, str(error)
    db.session.commit()
    flash(_("Lead converted into %(made)s.", made=_became(result)))
    target = result.deal or result.contact or result.organization or lead
    return redirect(url_for(record_type_of(target).endpoint, record_id=target.id), code=303), None


def merge_url(ids: list[int]) -> str:
    """The merge panel (the merge feature's) for these leads."""
    return url_for("merge.panel", plural="leads", ids=",".join(map(str, ids)))


def _became(result) -> str:
    parts = [label % {"name": getattr(r, "title", None) or r.name} for r, label in
             ((result.contact, _("contact “%(name)s”")), (result.organization, _("organization “%(name)s”")),
              (result.deal, _("deal “%(name)s”"))) if r]
    return format_list(parts, locale=current_locale()) if parts else _("nothing new (marked converted)")
