"""Webhooks: signed JSON to a local receiver after the commit; one event for a mass change; a
failing receiver gets retries and a redeliver, and never fails the user's request."""
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, WebhookDelivery
from crm.services import webhooks
from crm.services.api_tokens import issue_token
from tests.conftest import user


class Receiver:
    """A tiny threaded HTTP server that keeps what it receives and answers `status`."""

    def __init__(self):
        self.received: list[tuple[object, bytes]] = []  # (headers, case-insensitive; body)
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.headers, body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [json.loads(body)["event"] for _headers, body in self.received]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def subscribe(url: str, *events: str):
    subscription = webhooks.subscribe(db.session, url, list(events), user("admin@example.com"))
    db.session.commit()
    return subscription


def api(client, method: str, path: str, body: dict | None = None):
    token = issue_token(db.session, user("admin@example.com"), "hooks")
    db.session.commit()
    return getattr(client, method)(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})


def test_a_created_lead_is_posted_signed_with_the_record_and_the_actor(client, receiver):
    subscription = subscribe(receiver.url, "record.created", "record.updated")
    lead_id = api(client, "post", "/leads", {"title": "Hooked"}).json["id"]
    assert receiver.events() == ["record.created"]
    headers, body = receiver.received[0]
    expected = "sha256=" + hmac.new(subscription.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-CRM-Signature"] == expected
    payload = json.loads(body)
    assert payload["record"]["id"] == lead_id and payload["record"]["title"] == "Hooked"
    assert payload["record_type"] == "lead" and payload["actor"]["email"] == "admin@example.com"
    api(client, "patch", f"/leads/{lead_id}", {"city": "Lund"})
    assert receiver.events() == ["record.created", "record.updated"]
    assert db.session.scalar(select(WebhookDelivery.status).where(WebhookDelivery.event == "record.updated")) == "delivered"


def test_a_mass_change_sends_one_batch_finished_and_no_record_events(client, receiver):
    subscribe(receiver.url, "record.updated", "batch.finished")
    source = user("rep1@example.com")
    change = {"filter": {"owner": [str(source.id)]}, "action": "reassign", "owner": "rep2@example.com"}
    dry = api(client, "post", "/leads/mass-change", change).json
    assert dry["count"] > 1
    api(client, "post", "/leads/mass-change", change | {"confirmation": dry["confirmation"]})
    assert receiver.events() == ["batch.finished"]
    batch = json.loads(receiver.received[0][1])["batch"]
    assert batch["count"] == dry["count"] and batch["action"] == "reassign" and batch["record_type"] == "lead"


def test_a_failing_receiver_never_fails_the_request_and_is_retried_then_redelivered(client, receiver):
    subscribe(receiver.url, "record.created")
    receiver.status = 500
    response = api(client, "post", "/leads", {"title": "Still created"})
    assert response.status_code == 201 and db.session.get(Lead, response.json["id"]) is not None
    delivery = db.session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    for _ in range(webhooks.RETRIES):  # what the queue does after 2, 4, 8 … seconds
        webhooks.deliver(db.session, delivery.id)
    db.session.commit()
    assert (delivery.status, delivery.attempts) == ("failed", webhooks.RETRIES + 1)
    receiver.status = 200
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    assert client.post(f"/admin/webhooks/deliveries/{delivery.id}/redeliver").status_code == 303
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).status == "delivered"
    assert len(receiver.received) == webhooks.RETRIES + 2


def test_nothing_is_sent_for_a_change_that_was_rolled_back(client, receiver):
    subscribe(receiver.url, "record.created")
    assert api(client, "post", "/leads", {"title": "x", "owner": "user:99999"}).status_code == 422
    assert receiver.received == [] and db.session.scalar(select(WebhookDelivery)) is None


def test_a_subscription_needs_a_web_url_and_an_event(client, auth):
    auth.login("admin@example.com")
    assert client.post("/admin/webhooks/", data={"url": "ftp://x", "events": ["record.created"]}).status_code == 422
    assert client.post("/admin/webhooks/", data={"url": "https://example.com/h"}).status_code == 422
    assert client.post("/admin/webhooks/", data={"url": "https://example.com/h",
                                                  "events": ["record.created"]}).status_code == 303
