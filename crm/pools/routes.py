"""Admin pages for distribution pools: members in order, weights, caps, preview, weekly counts."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import User
from crm.models.pools import POOL_RECORD_TYPES, Pool, PoolMember
from crm.params import to_id, to_int
from crm.rendering import render
from crm.services import pools

bp = Blueprint("pools", __name__, url_prefix="/admin/pools")


@bp.before_request
@login_required
def admins_only():
    if not current_user.is_admin:
        abort(403, "Only admins manage distribution pools.")


@bp.get("/")
def index():
    """All pools with their member count."""
    return _list()


def _list(error: str | None = None, status: int = 200):
    items = db.session.scalars(select(Pool).order_by(Pool.record_type, Pool.name)).all()
    return render("pools/index.html", "pool_list", status=status, pools=items, record_types=POOL_RECORD_TYPES,
                  error=error)


@bp.post("/")
def create_pool():
    """Create a pool, then add its members on its page."""
    name, record_type = request.form.get("name", "").strip(), request.form.get("record_type", "")
    error = _name_error(name) or (None if record_type in POOL_RECORD_TYPES else "Choose lead, contact or deal.")
    if error:
        return _list(error, 422)
    pool = Pool(name=name, record_type=record_type)
    db.session.add(pool)
    db.session.commit()
    flash(f"Pool “{name}” created. Add its members below.")
    return redirect(url_for("pools.show_pool", pool_id=pool.id), code=303)


def _name_error(name: str, pool_id: int | None = None) -> str | None:
    if not name or len(name) > 80:
        return "A pool needs a name of at most 80 characters."
    clash = db.session.scalar(select(Pool.id).where(func.lower(Pool.name) == name.lower(), Pool.id != (pool_id or 0)))
    return f"There is already a pool called {name}." if clash else None


@bp.get("/<int:pool_id>")
def show_pool(pool_id: int):
    """One pool: members, next 10 assignments and this week's counts."""
    return _page(db.get_or_404(Pool, pool_id))


def _page(pool: Pool, status: int = 200):
    members_ids = {m.user_id for m in pool.members}
    candidates = db.session.scalars(select(User).where(User.active, User.id.not_in(members_ids) if members_ids else True)
                                    .order_by(User.name)).all()
    return render("pools/show.html", "pool_page", status=status, pool=pool, candidates=candidates,
                  preview=pools.preview(db.session, pool, 10), skipped=pools.skipped_members(db.session, pool),
                  week=pools.counts_since(db.session, pool.id, pools.week_start()),
                  today=pools.counts_since(db.session, pool.id, pools.day_start()))


@bp.post("/<int:pool_id>")
def update_pool(pool_id: int):
    """Rename the pool or switch it on or off."""
    pool = db.get_or_404(Pool, pool_id)
    name = request.form.get("name", "").strip()
    error = _name_error(name, pool.id)
    if error:
        flash(error, "error")
        return _page(pool, status=422)
    pool.name, pool.active = name, request.form.get("active") == "on"
    db.session.commit()
    flash("Pool saved.")
    return redirect(url_for("pools.show_pool", pool_id=pool.id), code=303)


@bp.post("/<int:pool_id>/members")
def add_member(pool_id: int):
    """Add a user at the end of the order."""
    pool = db.get_or_404(Pool, pool_id)
    user_id = to_id(request.form.get("user_id"))
    user = db.session.get(User, user_id) if user_id else None
    if user is None or any(m.user_id == user.id for m in pool.members):
        flash("Choose a user who is not in the pool yet.", "error")
        return _page(pool, status=422)
    pool.members.append(PoolMember(user_id=user.id, position=len(pool.members)))
    db.session.commit()
    flash(f"{user.name} joined the pool.")
    return redirect(url_for("pools.show_pool", pool_id=pool.id), code=303)


@bp.post("/<int:pool_id>/members/<int:member_id>")
def update_member(pool_id: int, member_id: int):
    """Change a member's weight and daily cap, or move them up or down."""
    pool = db.get_or_404(Pool, pool_id)
    member = next((m for m in pool.members if m.id == member_id), None) or abort(404)
    move = request.form.get("move")
    if move in ("up", "down"):
        _move(pool, member, -1 if move == "up" else 1)
    else:
        raw_cap = request.form.get("daily_cap", "").strip()
        weight, cap = to_int(request.form.get("weight"), low=1, high=100), to_int(raw_cap, high=100_000)
        if weight is None or (raw_cap and cap is None):
            flash("Weight is a whole number from 1 to 100; the daily cap is empty or a whole number.", "error")
            return _page(pool, status=422)
        member.weight, member.daily_cap = weight, cap
    db.session.commit()
    flash("Member saved.")
    return redirect(url_for("pools.show_pool", pool_id=pool.id), code=303)


def _move(pool: Pool, member: PoolMember, step: int) -> None:
    order = list(pool.members)
    i = order.index(member)
    j = min(max(i + step, 0), len(order) - 1)
    order[i], order[j] = order[j], order[i]
    for position, m in enumerate(order):
        m.position = position


@bp.post("/<int:pool_id>/members/<int:member_id>/remove")
def remove_member(pool_id: int, member_id: int):
    """Take a user out of the pool; their turns go to the others from now on."""
    pool = db.get_or_404(Pool, pool_id)
    member = next((m for m in pool.members if m.id == member_id), None) or abort(404)
    name = member.user.name
    pool.members.remove(member)
    db.session.commit()
    flash(f"{name} left the pool.")
    return redirect(url_for("pools.show_pool", pool_id=pool.id), code=303)
