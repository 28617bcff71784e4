"""Admin → Webhooks: subscribe URLs to events, read the delivery log, redeliver."""
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from crm.extensions import db
from crm.i18n import _
from crm.models import WebhookDelivery, WebhookSubscription
from crm.models.api import WEBHOOK_EVENTS
from crm.rendering import render
from crm.services import DomainError, webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
LOG_SIZE = 50


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(403, _("Only admins can manage webhooks."))


@bp.get("/")
def index():
    """Subscriptions and the latest deliveries."""
    return _page()


@bp.post("/")
def subscribe():
    """Subscribe a URL to the chosen events; the page shows its signing secret."""
    try:
        webhooks.subscribe(db.session, request.form.get("url", ""), request.form.getlist("events"), current_user)
    except DomainError as error:
        return _page(error=str(error), status=422)
    db.session.commit()
    flash(_("Subscribed. Deliveries are signed with the secret shown beside the URL."))
    return redirect(url_for("webhooks.index"), code=303)


@bp.post("/<int:subscription_id>/delete")
def unsubscribe(subscription_id: int):
    """Remove a subscription and its delivery log."""
    db.session.delete(db.get_or_404(WebhookSubscription, subscription_id))
    db.session.commit()
    flash(_("Subscription removed."))
    return redirect(url_for("webhooks.index"), code=303)


@bp.post("/deliveries/<int:delivery_id>/redeliver")
def redeliver(delivery_id: int):
    """Send a delivery again."""
    webhooks.redeliver(db.session, db.get_or_404(WebhookDelivery, delivery_id))
    db.session.commit()
    flash(_("Delivery #%(id)s queued again.", id=delivery_id))
    return redirect(url_for("webhooks.index"), code=303)


def _page(error: str = "", status: int = 200):
    subscriptions = db.session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(LOG_SIZE)).all()
    return render("webhooks/index.html", "webhooks_page", status=status, subscriptions=subscriptions,
                  deliveries=deliveries, events=WEBHOOK_EVENTS, error=error, form=request.form)
