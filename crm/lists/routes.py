from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from crm.extensions import db
from crm.models import SavedList
from crm.rendering import wants_fragment
from crm.services import DomainError
from crm.services.filters import parse_filter
from crm.services.record_types import RECORD_TYPES
from crm.services.saved_lists import delete_list, list_query, save_list, visible_lists

bp = Blueprint("lists", __name__, url_prefix="/lists")


SAVE_FIELDS = ("csrf_token", "list_name", "list_type", "list_shared")


@bp.before_app_request
def drop_save_fields_from_filter_urls():
    """Apply without JS submits the whole filter form as GET, smart-list fields and CSRF token
    included: send the browser to the URL of the filter alone, so the token never sits in a
    shareable URL or the history."""
    if request.method == "GET" and "csrf_token" in request.args:
        kept = [(k, v) for k, v in request.args.items(multi=True) if v and k not in SAVE_FIELDS]
        return redirect(f"{request.path}?{urlencode(kept)}" if kept else request.path)
    return None


@bp.post("/")
@login_required
def save():
    """Save the submitted filter as a smart list and open it."""
    rtype = RECORD_TYPES.get(request.form.get("list_type", ""))
    if rtype is None:
        abort(400)
    flt = parse_filter(db.session, rtype, request.form, current_user)
    sort = request.form.get("sort", "")
    try:
        saved = save_list(db.session, current_user, request.form.get("list_name", ""), rtype.name, flt,
                          shared=request.form.get("list_shared") == "1", sort=sort)
    except DomainError as error:
        flash(str(error), "error")
        query = list_query(flt, sort)
        target = url_for(f"{rtype.plural}.index") + (f"?{query}" if query else "")
    else:
        db.session.commit()
        flash(f"Saved smart list “{saved.name}”.")
        target = list_url(saved)
    if wants_fragment():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, code=303)


@bp.get("/<int:list_id>")
@login_required
def open_list(list_id: int):
    """Open a smart list in its record list."""
    return redirect(list_url(_visible(list_id)))


@bp.post("/<int:list_id>/delete")
@login_required
def delete(list_id: int):
    """Delete a smart list."""
    saved = _visible(list_id)
    try:
        delete_list(db.session, saved, current_user)
    except DomainError as error:
        abort(403, str(error))
    db.session.commit()
    flash(f"Deleted smart list “{saved.name}”.")
    return redirect(url_for(f"{RECORD_TYPES[saved.record_type].plural}.index"), code=303)


def _visible(list_id: int) -> SavedList:
    saved = db.session.scalar(visible_lists(current_user).where(SavedList.id == list_id))
    if saved is None:
        abort(404)
    return saved


def list_url(saved: SavedList) -> str:
    base = url_for(f"{RECORD_TYPES[saved.record_type].plural}.index")
    return f"{base}?{saved.query}" if saved.query else base


@bp.app_context_processor
def smart_list_context():
    def smart_lists() -> list[dict]:
        if not current_user.is_authenticated:
            return []
        return [{"name": s.name, "shared": s.shared and s.owner_id != current_user.id, "url": list_url(s),
                 "type": s.record_type} for s in db.session.scalars(visible_lists(current_user))]
    return {"smart_lists": smart_lists}
