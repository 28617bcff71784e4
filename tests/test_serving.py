"""Production serving: health probes, JSON request logs, and settings read from the app config."""
import json
import logging

import pytest
from huey.storage import MemoryStorage, RedisStorage
from sqlalchemy import create_engine, make_url, text

from crm import create_app, tasks
from crm.config import TestConfig
from crm.extensions import db
from crm.mail import send_mail
from tests.databases import on_postgres


@pytest.fixture
def restore_process_state(app):
    """Apps built in a test reconfigure the process-wide queue and loggers: put both back."""
    crm_logger, flask_logger = logging.getLogger("crm"), app.logger
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in (crm_logger, flask_logger)]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate
    tasks.configure(app.config)


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database_and_the_queue(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_readyz_is_503_and_names_what_is_down(restore_process_state, database_url):
    """A database that does not answer and a Redis queue that does not answer: not ready."""
    broken = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/none",
                        REDIS_URL="redis://127.0.0.1:1/0", HUEY_IMMEDIATE=False)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["database"].startswith("error: OperationalError")
    assert body["queue"].startswith("error: ConnectionError")


def test_one_json_line_per_request_with_duration_and_user(restore_process_state, database_url, rep, capsys):
    logged = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, LOG_FORMAT="json")
    client = logged.test_client()
    client.post("/login", data={"email": rep.email, "password": "demo"})
    capsys.readouterr()
    response = client.get("/leads/?sort=title", headers={"X-Request-ID": "lb-42"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-42"
    assert len(lines) == 1
    line = lines[0]
    assert (line["event"], line["method"], line["path"], line["status"]) == ("request", "GET", "/leads/", 200)
    assert line["user_id"] == rep.id and line["request_id"] == "lb-42"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    with logged.app_context():
        db.engine.dispose()


def test_anonymous_requests_log_no_user_and_get_a_request_id(restore_process_state, database_url, capsys):
    logged = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, LOG_FORMAT="json")
    response = logged.test_client().get("/leads/")
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert response.status_code == 302 and line["status"] == 302 and line["user_id"] is None
    assert line["request_id"] == response.headers["X-Request-ID"] and len(line["request_id"]) == 32
    with logged.app_context():
        db.engine.dispose()


def test_the_queue_follows_the_app_config(restore_process_state, database_url):
    """REDIS_URL in the app config (not only the environment) puts jobs on Redis, one queue per database."""
    create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL="redis://127.0.0.1:6379/3",
               HUEY_IMMEDIATE=False)
    assert isinstance(tasks.huey.storage, RedisStorage)
    assert tasks.huey.storage_kwargs == {"url": "redis://127.0.0.1:6379/3"}
    name = tasks.huey.name
    create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url + "-other", REDIS_URL="redis://127.0.0.1:6379/3",
               HUEY_IMMEDIATE=False)
    assert tasks.huey.name != name
    create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    assert isinstance(tasks.huey.storage, MemoryStorage) and tasks.huey.immediate


def test_mail_goes_to_the_configured_outbox(app, tmp_path):
    app.config["MAIL_OUTBOX"] = str(tmp_path / "mails.log")
    app.config["MAIL_FROM"] = "sales@example.com"
    send_mail("ana@example.com", "Import done", "12 leads imported.")
    written = (tmp_path / "mails.log").read_text()
    assert "From: sales@example.com" in written and "12 leads imported." in written


def test_mail_uses_smtp_when_the_app_config_says_so(app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user, password))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"]))

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="mail.example.com", SMTP_PORT=2525,
                      SMTP_USER="crm", SMTP_PASSWORD="secret")
    send_mail("ana@example.com", "Import done", "12 leads imported.")
    assert sent == [("connect", "mail.example.com", 2525), ("starttls",), ("login", "crm", "secret"),
                    ("send", "ana@example.com", "Import done")]


def test_create_database_creates_the_postgres_database_once(app):
    if not on_postgres():
        pytest.skip("PostgreSQL only (TEST_DATABASE=postgresql)")
    url = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/test").set(database="crm_cli_create_test")
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    target = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False))
    try:
        first = target.test_cli_runner().invoke(args=["create-database"])
        again = target.test_cli_runner().invoke(args=["create-database"])
        assert first.exit_code == 0 and "Created the database" in first.output
        assert again.exit_code == 0 and again.output == ""
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        server.dispose()
