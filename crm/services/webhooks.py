"""Webhooks: events of a transaction become signed deliveries once it commits.

History is the one place every change passes (crm/services/history.py): a single record's
create, update, delete or restore notes `record.<verb>`; a multi-record operation notes its
batch when it closes (`record.converted`, `record.merged`, else `batch.finished`), so a mass
change of 100,000 records is one delivery, not 100,000. Just before the commit the notes become
delivery rows (payload: the record or the batch, and the actor), in the same transaction; after
it the job queue sends them (crm/tasks.py), signed `X-CRM-Signature: sha256=<HMAC of the body>`,
retried with exponential backoff. A rollback drops the notes: nothing is sent for what did not
happen, and a slow or failing receiver never delays or fails the user's request.
"""
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm.models import Batch, User
from crm.models.api import WEBHOOK_EVENTS, WebhookDelivery, WebhookSubscription
from crm.models.mixins import utcnow
from crm.services import DomainError
from crm.services.record_types import RECORD_TYPES

VERBS = {"create": "record.created", "update": "record.updated", "delete": "record.deleted",
         "restore": "record.restored"}
BATCH_EVENTS = {"convert": "record.converted", "merge": "record.merged"}
TIMEOUT = 10  # seconds a receiver has to answer
RETRIES = 5  # attempts after the first; waits 2, 4, 8, 16, 32 s (× BACKOFF)
BACKOFF = 2
_PENDING = "webhook_events"
_QUEUED = "webhook_deliveries"
# Set by crm.tasks: queue a delivery after the commit (huey), and serialize a record (the API's schema).
enqueue: Callable[[int, int], None] | None = None
record_json: Callable[[str, object], dict] | None = None


def note_record(session: Session, record_type: str, record_id: int, kind: str, actor_id: int | None) -> None:
    """A single record changed outside any batch (history.log / log_changes)."""
    if kind in VERBS and record_type in RECORD_TYPES:
        pending = session.info.setdefault(_PENDING, {})
        if kind != "update" or ("record.created", record_type, record_id) not in pending:  # one event per new record
            pending[(VERBS[kind], record_type, record_id)] = actor_id


def note_batch(session: Session, batch: Batch) -> None:
    """A multi-record operation closed (history.close_batch)."""
    name = BATCH_EVENTS.get(batch.action, "batch.finished")
    session.info.setdefault(_PENDING, {})[(name, "batch", batch.id)] = batch.actor_id


def subscribe(session: Session, url: str, events: list[str], actor: User) -> WebhookSubscription:
    """A new subscription with a fresh secret (shown on the Webhooks page)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise DomainError("Enter an http:// or https:// URL (at most 500 characters).")
    chosen = [e for e in WEBHOOK_EVENTS if e in events]
    if not chosen:
        raise DomainError("Choose at least one event.")
    subscription = WebhookSubscription(url=url, events=chosen, secret=secrets.token_hex(24), created_by_id=actor.id)
    session.add(subscription)
    session.flush()
    return subscription


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(session: Session, delivery_id: int) -> int | None:
    """One attempt; the seconds to wait before the next one, or None when done (delivered, or out
    of attempts). The caller commits."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status == "delivered":
        return None
    body = delivery.body.encode()
    request = urllib.request.Request(delivery.subscription.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "FieldbookCRM-Webhooks/1",
        "X-CRM-Event": delivery.event, "X-CRM-Delivery": str(delivery.id),
        "X-CRM-Signature": sign(delivery.subscription.secret, body)})
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            delivery.response_code, delivery.error = response.status, ""
    except urllib.error.HTTPError as error:
        delivery.response_code, delivery.error = error.code, f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        delivery.response_code, delivery.error = None, str(error)[:255]
    if delivery.response_code is not None and 200 <= delivery.response_code < 300:
        delivery.status = "delivered"
        return None
    if delivery.attempts > RETRIES:
        delivery.status = "failed"
        return None
    return BACKOFF ** delivery.attempts


def redeliver(session: Session, delivery: WebhookDelivery) -> None:
    """Send a delivery again (from the log), with a fresh round of attempts."""
    delivery.status, delivery.attempts, delivery.error = "pending", 0, ""
    session.info.setdefault(_QUEUED, []).append(delivery.id)


def _payload(session: Session, name: str, kind: str, ident, actor_id: int | None) -> dict | None:
    actor = session.get(User, actor_id) if actor_id else None
    body = {"id": str(uuid.uuid4()), "event": name, "occurred_at": utcnow().isoformat() + "Z",
            "actor": {"id": actor.id, "name": actor.name, "email": actor.email} if actor else None}
    if kind == "batch":
        batch = session.get(Batch, ident)
        if batch is None:  # discarded: it changed nothing
            return None
        return body | {"batch": {"id": batch.id, "action": batch.action, "record_type": batch.record_type,
                                 "count": batch.count, "summary": batch.summary}}
    record = session.get(RECORD_TYPES[kind].model, ident)
    if record is None:
        return None
    return body | {"record_type": kind, "record": record_json(kind, record) if record_json else {"id": record.id}}


@event.listens_for(Session, "before_commit")
def _write_deliveries(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    subscriptions = session.scalars(select(WebhookSubscription).where(WebhookSubscription.active)).all()
    wanted = {(s.id, e) for s in subscriptions for e in s.events}
    if not wanted:
        return
    for (name, kind, ident), actor_id in pending.items():
        targets = [s for s in subscriptions if (s.id, name) in wanted]
        payload = _payload(session, name, kind, ident, actor_id) if targets else None
        if payload is None:
            continue
        body = json.dumps(payload, default=str, sort_keys=True)
        rows = [WebhookDelivery(subscription_id=s.id, event=name, body=body) for s in targets]
        session.add_all(rows)
        session.flush()
        session.info.setdefault(_QUEUED, []).extend(r.id for r in rows)


@event.listens_for(Session, "after_commit")
def _send_deliveries(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued and enqueue is not None:
        for delivery_id in queued:
            enqueue(delivery_id, 0)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_QUEUED, None)
