"""The map: filtered records as pins, lasso selection into mass change, territories."""
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import click
from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_blocks
from werkzeug.datastructures import MultiDict
from sqlalchemy import select

from crm.extensions import db
from crm.map.forms import build_territory_form, owner_id
from crm.map.queries import (
    MAP_TYPES, category_column, legend, location_counts, owner_legend, popup_content, territory_layers,
)
from crm.models import Territory, User
from crm.params import optional_id, to_id
from crm.records.views import filter_options, get_visible
from crm.rendering import render, wants_fragment
from crm.services import DomainError, PermissionDenied
from crm.services.filters import parse_filter
from crm.services.permissions import may_mass_change
from crm.services.geometry import parse_viewport, read_latlngs, select_ids, viewport_points
from crm.services.places import warm_up
from crm.services.record_types import RECORD_TYPES
from crm.services.settings import leads_enabled
from crm.services.territories import (
    create_territory, delete_territory, recompute_territories, require_admin, territory_size, update_territory,
)

bp = Blueprint("map", __name__, url_prefix="/map", cli_group=None)

LIST_LIMIT = 500  # a lasso selection up to this size lists each pin with a checkbox
COMMON_ARGS = ("status", "stage", "pipeline", "custom", "ids", "trash")


def _rtype(plural: str):
    rtype = next((t for t in RECORD_TYPES.values() if t.plural == plural), None)
    if rtype is None or plural not in MAP_TYPES:
        abort(404)
    return rtype


def _page_context(rtype, flt, draft: dict | None = None) -> dict:
    """What the map page shows; `draft` is a new territory whose save was refused (kept to fix)."""
    located = location_counts(db.session, rtype, flt, current_user)
    switch_args = flt.without(*COMMON_ARGS).to_args()
    types = [t for t in MAP_TYPES if t != "leads" or leads_enabled(db.session, current_user)]
    colors = legend(db.session, rtype)
    users = db.session.execute(select(User.id, User.name).where(User.active).order_by(User.name)).all()
    owners = owner_legend(users)
    list_url = url_for("map.index", plural=rtype.plural)
    return dict(rtype=rtype, flt=flt, filter_args=flt.to_args(), options=filter_options(rtype),
                list_url=list_url, map_url=list_url + _query(flt.to_args()), draft=draft,
                on_map=located.on_map,
                unlocated=located.unlocated, bounds=located.bounds,
                legend=colors, legend_colors={e.id: e.color for e in colors}, territories=territory_layers(db.session),
                owner_legend=owners, owner_colors={e.id: e.color for e in owners},
                color_by="owner" if request.args.get("color") == "owner" else "status",
                types=[(RECORD_TYPES[t[:-1]], switch_args) for t in types],
                users=users,
                may_mass_change=may_mass_change(current_user))


@bp.get("", defaults={"plural": "leads"})
@bp.get("/<plural>")
@login_required
def index(plural: str):
    """The map of the filtered records; htmx filter changes get the summary block."""
    wanted = request.args.get("type")
    if wanted in RECORD_TYPES and RECORD_TYPES[wanted].plural != plural:
        return _same_args(RECORD_TYPES[wanted].plural)
    if plural == "leads" and not leads_enabled(db.session, current_user):
        return _same_args("deals")
    rtype = _rtype(plural)
    flt = parse_filter(db.session, rtype, request.args, current_user)
    warm_up()  # the map asks for place names next
    context = _page_context(rtype, flt)
    response = render("map/index.html", "record_rows", **context)
    if wants_fragment():
        # Everything else that carries the filter follows it, out of band: the type and view
        # switches and the territory links and form (their `next` brings the user back here).
        response.set_data(response.get_data(as_text=True) + render_blocks(
            "map/index.html", ["map_views", "territory_list", "territory_next"], oob=True, **context))
    return response


def _query(args) -> str:
    return "?" + urlencode(args) if args else ""


def _same_args(plural: str):
    """`/map?type=deal&...` -> `/map/deals?...`: the record type lives in the path."""
    args = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != "type"])
    return redirect(url_for("map.index", plural=plural) + (f"?{args}" if args else ""), code=303)


@bp.get("/<plural>/points")
@login_required
def points(plural: str):
    """JSON for the visible area: single pins when few, grid clusters when many."""
    rtype = _rtype(plural)
    flt = parse_filter(db.session, rtype, request.args, current_user)
    try:
        viewport = parse_viewport(request.args.get("bbox"), request.args.get("zoom"))
    except DomainError as error:
        return jsonify(error=str(error)), 400
    colour = rtype.model.owner_id if request.args.get("color") == "owner" else category_column(rtype)
    data = viewport_points(db.session, rtype, flt, current_user, viewport, colour)
    return jsonify(errors=flt.errors, **data)


@bp.get("/<plural>/<int:record_id>/popup")
@login_required
def popup(plural: str, record_id: int):
    """The popup of one pin as JSON (title, key fields, link); map.js inserts it as text."""
    rtype = _rtype(plural)
    record = get_visible(rtype, record_id)
    return jsonify(popup_content(rtype, record, url_for(rtype.endpoint, record_id=record.id)))


@bp.post("/<plural>/lasso")
@login_required
def lasso(plural: str):
    """The records inside a drawn shape (filters and permissions applied), ready for mass change."""
    rtype = _rtype(plural)
    flt = parse_filter(db.session, rtype, request.form, current_user)
    selection = {"ids": [], "notes": [], "error": None, "records": [], "shape": request.form.get("shape", ""),
                 "refresh": request.form.get("refresh") == "1", "picked": None}
    try:
        area = read_latlngs(selection["shape"])
        selection["ids"] = select_ids(db.session, rtype, flt, current_user, area)
        selection["notes"] = area.notes
    except DomainError as error:
        selection["error"] = str(error)
    if 0 < len(selection["ids"]) <= LIST_LIMIT:
        selection["records"] = _listed(rtype, selection["ids"])
    if selection["refresh"]:  # re-run after a mass change: the pins the user had unticked stay unticked
        selection["picked"] = {i for i in map(to_id, request.form.get("picked", "").split(",")) if i}
    return render("map/index.html", "map_selection", selection=selection,
                  **_page_context(rtype, flt))


def _listed(rtype, ids: list[int]) -> list:
    model = rtype.model
    return db.session.execute(
        select(model.id, getattr(model, rtype.title_column), model.lat, model.lng, User.name)
        .outerjoin(User, User.id == model.owner_id).where(model.id.in_(ids))
        .order_by(getattr(model, rtype.title_column), model.id)).all()


# -- territories -------------------------------------------------------------------------

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@bp.post("/territories")
@login_required
def add_territory():
    """Save a territory drawn on the map; records inside it join it at once.

    A refused save shows the map again with the form, the error and the drawn outline (422).
    """
    form = request.form
    color = form.get("color", "") if HEX_COLOR.match(form.get("color", "")) else "#3b82f6"
    owner = form.get("owner", "")
    try:
        territory, result = create_territory(
            db.session, current_user, name=form.get("name", ""), area=read_latlngs(form.get("outline", "")),
            owner_id=optional_id(owner, "owner"), auto_assign=bool(form.get("auto_assign")),
            color=color)
    except PermissionDenied as error:
        abort(403, str(error))
    except DomainError as error:
        db.session.rollback()
        draft = dict(name=form.get("name", ""), owner=owner, auto_assign=bool(form.get("auto_assign")),
                     color=color, outline=form.get("outline", ""), error=str(error))
        return _map_again(draft)
    db.session.commit()
    flash(f"Territory “{territory.name}” saved: {result.moved:,} records are in it"
          + (f", {result.reassigned:,} reassigned to its owner." if result.reassigned else "."))
    return redirect(_back(), code=303)


def _map_again(draft: dict):
    """The map the form came from (its type and filter, read from `next`), with the refused draft."""
    target = urlsplit(_back())
    plural = target.path.removeprefix(url_for("map.index")).strip("/") or "leads"
    plural = plural if plural in MAP_TYPES else "leads"
    if plural == "leads" and not leads_enabled(db.session, current_user):
        plural = "deals"
    rtype = _rtype(plural)
    flt = parse_filter(db.session, rtype, MultiDict(parse_qsl(target.query)), current_user)
    return render("map/index.html", "record_rows", status=422, **_page_context(rtype, flt, draft))


def _admins_only() -> None:
    """Territory pages are for admins (the rule lives in the territories service)."""
    try:
        require_admin(current_user)
    except PermissionDenied as error:
        abort(403, str(error))


@bp.route("/territories/<int:territory_id>/edit", methods=["GET", "POST"])
@login_required
def edit_territory(territory_id: int):
    """Rename a territory, change its owner or colour, or redraw it; records follow a new outline."""
    _admins_only()
    territory = db.get_or_404(Territory, territory_id)
    form = build_territory_form(db.session, territory)
    if not form.is_submitted():
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        try:
            edited = update_territory(
                db.session, current_user, territory, name=form.name.data, owner_id=owner_id(form),
                auto_assign=form.auto_assign.data, color=form.color.data, area=_outline(form))
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_edited_message(territory.name, edited))
            return redirect(_back(form.next.data), code=303)
    failed = bool(form.errors or form.form_errors)
    return render("map/territory.html", "territory_form", status=422 if failed else 200, territory=territory,
                  form=form, back=_back(form.next.data))


def _outline(form):
    """The redrawn outline, checked like a new territory's; a bad one is dropped from the form."""
    try:
        return read_latlngs(form.outline.data) if form.outline.data else None
    except DomainError:
        form.outline.data = ""
        raise


def _edited_message(name: str, edited) -> str:
    if not edited.changes:
        return f"Territory “{name}” unchanged."
    result = edited.result
    return (f"Territory “{name}” saved"
            + (f": {result.moved:,} records moved" if "geojson" in edited.changes else "")
            + (f", {result.reassigned:,} reassigned to its owner." if result.reassigned else "."))


@bp.route("/territories/<int:territory_id>/delete", methods=["GET", "POST"])
@login_required
def remove_territory(territory_id: int):
    """GET asks to confirm; POST deletes the territory (its records go to the territory around them)."""
    _admins_only()
    territory = db.get_or_404(Territory, territory_id)
    if request.method == "GET":
        back = _back(request.args.get("next", ""))
        return render("map/delete_territory.html", "territory_delete", territory=territory, back=back,
                      size=territory_size(db.session, territory), page=not wants_fragment())
    name = territory.name
    try:
        deleted = delete_territory(db.session, current_user, territory)
    except DomainError as error:
        abort(403, str(error))
    db.session.commit()
    flash(f"Territory “{name}” deleted; its {deleted.records:,} records stay"
          + (f", {deleted.rehomed:,} now in the territory around them." if deleted.rehomed else "."))
    return redirect(_back(), code=303)


def _back(target: str | None = None) -> str:
    """Return to the map the form came from (only ever a map URL on this site)."""
    target = request.form.get("next", "") if target is None else target
    return target if target.startswith(url_for("map.index")) and "//" not in target else url_for("map.index")


@bp.cli.command("recompute-territories")
def recompute_territories_command() -> None:
    """Re-compute every record's territory from its coordinates (set-based, in chunks)."""
    result = recompute_territories(db.session)
    db.session.commit()
    click.echo(f"Territories recomputed: {result.moved:,} records moved, {result.reassigned:,} reassigned.")
