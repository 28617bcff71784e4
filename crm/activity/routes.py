from flask import Blueprint, request
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.extensions import db
from crm.models import User
from crm.paging import paginate
from crm.params import shown, to_id
from crm.rendering import render
from crm.services import history
from crm.services.settings import enabled_types

bp = Blueprint("activity", __name__)


@bp.get("/activity")
@login_required
def feed():
    """Events across records, newest first, filterable by actor; one entry per batch."""
    raw = request.args.get("actor", "")
    actor_id = to_id(raw)
    page, notice = paginate(history.feed_select(current_user, actor_id), per_page=50)
    actors = db.session.execute(select(User.id, User.name).order_by(User.name)).all()
    return render("activity/feed.html", "feed_items", items=history.describe(db.session, page.items, with_record=True),
                  pagination=page, notice=notice, actors=actors, actor_id=actor_id,
                  linkable=set(enabled_types(db.session, current_user)),
                  actor_error=f"Unknown actor {shown(raw)!r}; showing everyone." if raw and actor_id is None else None)
