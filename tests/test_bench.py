"""`make bench` runs every selected row on the engine under test (correctness only, never timings)."""
import pytest
from sqlalchemy import create_engine, text

from crm.bench import main
from crm.bench._database import scratch_database, server_url
from tests.databases import on_postgres, postgres_schema


def test_bench_rows_run_without_failures_on_a_small_seed(capsys, monkeypatch):
    """The list, mass-change and undo rows, floors included, run on this engine's scratch database."""
    engine = "postgres" if on_postgres() else "sqlite"
    if on_postgres():
        with postgres_schema():  # skips when no server answers
            pass
    monkeypatch.delenv("DATABASE_URL", raising=False)
    main(["--db", engine, "--leads", "300", "lists", "bulk"])
    out = capsys.readouterr().out
    assert "Seeded 300 leads" in out
    assert "FAILED" not in out
    for operation in ("mass reassign", "mass change stage", "mass delete", "undo of that status change", "leads list"):
        assert out.count(operation) == 1, operation


def test_postgres_scratch_database_is_dropped_afterwards(monkeypatch, tmp_path):
    """The bench's PostgreSQL database exists during the run and is gone after it."""
    if not on_postgres():
        pytest.skip("PostgreSQL only (TEST_DATABASE=postgresql)")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert server_url().database == "test"
    with scratch_database("postgres", tmp_path) as url:
        name = url.rsplit("/", 1)[-1]
        with create_engine(url).connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == name
    admin = create_engine(server_url().set(database="postgres"))
    with admin.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar() == 0
    admin.dispose()
