"""Anti-automation: failed logins are throttled per account and per address, with a clear message
and no lock-out beyond the window; limits are counted in a store every worker process shares."""
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import uuid
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db, limiter
from crm.models import Lead
from crm.models.pools import CaptureForm
from crm.ratelimit import SQLiteStorage


@pytest.fixture
def limited(app, database_url, tmp_path):
    """The app with rate limits on, counted in a fresh shared SQLite store."""
    limited_app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                             RATELIMIT_STORAGE_URI=f"sqlite:///{tmp_path}/limits.db",
                             LOGIN_RATE_LIMIT_ACCOUNT="3 per minute", LOGIN_RATE_LIMIT_ADDRESS="5 per minute")
    try:
        yield limited_app
    finally:
        limiter.enabled = False


def attempt(client, email: str, password: str = "wrong", address: str = "10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_on_one_account_are_throttled_with_a_clear_message(limited):
    client = limited.test_client()
    codes = [attempt(client, "rep1@example.com", address=f"10.0.0.{i}").status_code for i in range(4)]
    assert codes == [422, 422, 422, 429]
    refused = attempt(client, "rep1@example.com", password="demo", address="10.0.0.9")
    assert refused.status_code == 429
    assert "Too many failed logins. Wait a minute" in refused.get_data(as_text=True)
    assert refused.headers.get("Retry-After")
    assert attempt(client, "rep2@example.com", password="demo", address="10.0.0.9").status_code == 303


def test_failed_logins_from_one_address_are_throttled_across_accounts(limited):
    client = limited.test_client()
    codes = [attempt(client, f"nobody{i}@example.com").status_code for i in range(6)]
    assert codes == [422] * 5 + [429]
    assert attempt(client, "rep3@example.com", password="demo", address="10.0.0.2").status_code == 303


def test_successful_logins_do_not_count(limited):
    for _ in range(6):
        client = limited.test_client()
        assert attempt(client, "rep1@example.com", password="demo").status_code == 303


def test_the_wait_is_short_not_a_lock_out(limited, monkeypatch):
    client = limited.test_client()
    for _ in range(3):
        attempt(client, "rep4@example.com")
    assert attempt(client, "rep4@example.com", password="demo").status_code == 429
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert attempt(client, "rep4@example.com", password="demo").status_code == 303


def _hit(path: str, n: int, queue) -> None:
    storage = SQLiteStorage(f"sqlite:///{path}")
    queue.put([storage.incr("capture:1", 60) for _ in range(n)])


def test_the_sqlite_store_counts_every_hit_across_processes(tmp_path):
    path = tmp_path / "shared.db"
    SQLiteStorage(f"sqlite:///{path}")
    queue = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=_hit, args=(path, 25, queue)) for _ in range(4)]
    for w in workers:
        w.start()
    seen = sorted(v for _ in workers for v in queue.get(timeout=30))
    for w in workers:
        w.join()
    assert seen == list(range(1, 101))
    assert SQLiteStorage(f"sqlite:///{path}").get("capture:1") == 100


def test_the_sqlite_store_starts_a_new_window_when_one_ends(tmp_path, monkeypatch):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'w.db'}")
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") > time.time()
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0 and storage.check()


def test_the_capture_limit_holds_across_gunicorn_workers(app, database_url, tmp_path):
    """Two gunicorn workers on the default shared store accept 5 submissions a minute in all, not 5 each."""
    slug = _capture_form()
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HUEY_IMMEDIATE": "1", "SECRET_KEY": "x",
           "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path}/limits.db"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + f"/f/{slug}")
        codes = [_post(base + f"/f/{slug}", {"person_name": f"Visitor {i}", "email": f"v{i}@example.com"}, base)
                 for i in range(11)]
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert codes.count(303) == 5 and codes.count(429) == 6
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.source == "Website form")) == 5


def _capture_form() -> str:
    form = CaptureForm(name="Contact us", slug="contact-us", fields=["person_name", "email"],
                       owner_choice="", source="Website form", allowed_origins="")
    db.session.add(form)
    db.session.commit()
    return form.slug


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _post(url: str, data: dict, origin: str) -> int:
    request = urllib.request.Request(url, data=urlencode(data).encode(), headers={"Origin": origin}, method="POST")
    try:
        return urllib.request.build_opener(_NoRedirect).open(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def test_with_redis_the_counters_live_in_redis_under_the_apps_prefix(app, database_url):
    """REDIS_URL set: every worker counts in Redis (this test's own key prefix; nothing else touched)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    prefix = f"crm-test-{uuid.uuid4().hex[:8]}"
    limited = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                         REDIS_URL="redis://127.0.0.1:6379", RATELIMIT_STORAGE_URI="",
                         RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix}, LOGIN_RATE_LIMIT_ACCOUNT="2 per minute")
    try:
        browser = limited.test_client()
        codes = [attempt(browser, "rep5@example.com").status_code for _ in range(3)]
        keys = client.keys(f"{prefix}:*")
    finally:
        limiter.enabled = False
        for key in client.keys(f"{prefix}:*"):
            client.delete(key)
    assert codes == [422, 422, 429]
    assert keys
