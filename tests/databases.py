"""Throwaway databases for the tests: a SQLite file, or a private schema on the PostgreSQL server.

`TEST_DATABASE=postgresql` switches unit and browser tests to PostgreSQL (127.0.0.1:5432, database
test, or TEST_PG_URL); they are skipped with a visible reason when no server answers.
"""
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE") == "postgresql"


def _postgres_available() -> bool:
    try:
        with create_engine(PG_URL).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A new, empty schema; yields a URL whose search_path points at it. Dropped afterwards."""
    if not _postgres_available():
        pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432; PostgreSQL tests skipped")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def throwaway_database(sqlite_file: Path) -> Iterator[str]:
    """The URL of a throwaway database: `sqlite_file`, or with TEST_DATABASE=postgresql a new schema."""
    if not on_postgres():
        yield f"sqlite:///{sqlite_file}"
        return
    with postgres_schema() as url:
        yield url
