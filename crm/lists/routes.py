"""Smart lists: save a list's filter under a name, open it, delete it."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response

from crm.extensions import db
from crm.i18n import _
from crm.models import SavedList
from crm.rendering import wants_fragment
from crm.services import DomainError
from crm.services.filters import parse_filter
from crm.services.record_types import RECORD_TYPES
from crm.services.saved_lists import delete_list, list_query, save_list, visible_lists

bp = Blueprint("lists", __name__, url_prefix="/lists")


@bp.post("/")
@login_required
def save():
    """Save the filter as a smart list and open it: the filter form's values (htmx), or the filter
    of the page in the action's query (without JS)."""
    rtype = RECORD_TYPES.get(request.form.get("list_type", ""))
    if rtype is None:
        abort(400)
    filter_args = request.values  # one of the two holds the filter
    flt = parse_filter(db.session, rtype, filter_args, current_user)
    sort = filter_args.get("sort", "")
    try:
        saved = save_list(db.session, current_user, request.form.get("list_name", ""), rtype.name, flt,
                          shared=request.form.get("list_shared") == "1", sort=sort)
    except DomainError as error:
        flash(str(error), "error")
        query = list_query(flt, sort)
        target = url_for(f"{rtype.plural}.index") + (f"?{query}" if query else "")
    else:
        db.session.commit()
        flash(_("Saved smart list “%(name)s”.", name=saved.name))
        target = list_url(saved)
    if wants_fragment():
        return make_response("", 204, redirect=target)
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
    flash(_("Deleted smart list “%(name)s”.", name=saved.name))
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
