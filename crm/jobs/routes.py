from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Job, Notification
from crm.models.mixins import utcnow
from crm.rendering import render, wants_fragment

bp = Blueprint("jobs", __name__)


@bp.get("/jobs/<job_id>")
@login_required
def show_job(job_id: str):
    """A job's progress bar; the fragment polls itself every second until the job is finished."""
    job = db.get_or_404(Job, job_id)
    if job.actor_id != current_user.id and not current_user.is_admin:
        abort(403)
    # A finished job's page around the bar (an import's report) is stale: htmx reloads it.
    return render("jobs/show.html", "job_progress", job=job, refresh=job.finished and wants_fragment())


@bp.get("/notifications")
@login_required
def notifications():
    """The user's notifications, newest first."""
    items = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                               .order_by(Notification.created_at.desc()).limit(100)).all()
    return render("jobs/notifications.html", "notification_list", items=items)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark every notification as read."""
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return redirect(url_for("jobs.notifications"), code=303)


@bp.app_context_processor
def unread_notifications():
    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)))
    return {"unread_notifications": count}
