"""Fixtures: an app on a fresh database (SQLite file, or a private PostgreSQL schema) with a small seed.

Set TEST_DATABASE=postgresql to run the same tests on PostgreSQL (tests/databases.py); each xdist
worker gets its own schema, dropped at the end.
"""
import contextvars

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select, text

from crm import create_app
from crm.catalogs import compile_catalogs
from crm.config import TestConfig
from crm.extensions import db
from crm.models import User
from crm.services.demo import seed_demo
from tests.databases import throwaway_database

compile_catalogs()  # the .mo files are built, not committed: a fresh checkout has none

@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database for this worker: a SQLite file, or a throwaway PostgreSQL schema."""
    with throwaway_database(tmp_path_factory.mktemp("db") / "test.db") as url:
        yield url


_schema_ready: set[str] = set()


def _empty_database(url: str) -> None:
    """SQLite: a new schema. PostgreSQL: the schema once per worker, then DELETE and restart the
    id sequences (much faster than DDL or TRUNCATE on small tables)."""
    if url.startswith("sqlite") or url not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(url)
        return
    statements = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
    statements += [f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', 'id'), 1, false)"
                   for t in db.metadata.sorted_tables
                   if "id" in t.c and t.c.id.autoincrement is not False and t.c.id.type.python_type is int]
    db.session.execute(text("; ".join(statements)))
    db.session.commit()


class RequestSessionClient(FlaskClient):
    """A test client whose every request gets its own app context, hence its own database session,
    removed when the request ends, as in production: what a view forgets to commit is gone.

    The test's own session (in the fixture's app context) is committed before each request, so the
    view finds the test's setup in the database as another client would, and reads afresh after it.
    """

    def open(self, *args, **kwargs):
        if has_app_context():  # not in a test's worker thread, which has no session of its own
            db.session.commit()
        kwargs.setdefault("buffered", True)  # a streamed body is read inside the request's own context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def _worker_app(database_url):
    """One app (and engine) per worker: engines keep their compiled-SQL cache between tests."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    app.test_client_class = RequestSessionClient
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_worker_app, database_url):
    """The app on an emptied database, seeded with a small demo (7 users, 40 leads, 15 deals)."""
    config = dict(_worker_app.config)
    with _worker_app.app_context():
        _empty_database(database_url)
        seed_demo(db.session, leads=40, deals=15, seed=1)
        db.session.commit()
        yield _worker_app
        db.session.remove()
    _worker_app.config.clear()
    _worker_app.config.update(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, email: str = "admin@example.com", password: str = "demo"):
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def admin():
    return user("admin@example.com")


@pytest.fixture
def manager():
    return user("manager@example.com")


@pytest.fixture
def rep():
    return user("rep1@example.com")
