"""Playwright against a live server: the real app on a throwaway database, Debian's chromium.

Each test gets its own server and database (seeded small), so no test relies on another's data:
a SQLite file, or with TEST_DATABASE=postgresql a private PostgreSQL schema.
"""
import shutil
import socket
import threading

import pytest
from werkzeug.serving import make_server

from crm import create_app
from crm.catalogs import compile_catalogs
from crm.config import TestConfig
from crm.extensions import db
from crm.services.demo import seed_demo
from tests.databases import throwaway_database

compile_catalogs()  # the .mo files are built, not committed: a fresh checkout has none

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class E2EConfig(TestConfig):
    WTF_CSRF_ENABLED = True  # the browser sends real tokens, as in production
    TESTING = False


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run"]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    with throwaway_database(tmp_path / "e2e.db") as url:
        yield url


@pytest.fixture
def live_app(database_url):
    app = create_app(E2EConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        db.create_all()
        seed_demo(db.session, leads=60, deals=24, seed=3)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """Serves live_app on a free port in a background thread; yields its base URL."""
    port = _free_port()
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def app_db(live_app):
    """Run database checks inside the live app's context: `with app_db(): ...`."""
    return live_app.app_context
