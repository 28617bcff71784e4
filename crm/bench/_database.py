"""The bench's throwaway database: a SQLite file in a temp dir, or a scratch PostgreSQL database.

The engine comes from `--db` (`make bench DB=postgres`), else from DATABASE_URL's scheme. On
PostgreSQL the server and credentials are DATABASE_URL's (or 127.0.0.1:5432, user postgres); the
bench creates its own database there, `crm_bench_<pid>`, and drops it afterwards: the database
DATABASE_URL names is never written to.
"""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENGINES = ("sqlite", "postgres")


def engine_from_env() -> str:
    """`postgres` when DATABASE_URL points at PostgreSQL, else `sqlite`."""
    return "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"


def server_url() -> URL:
    """DATABASE_URL's server when it is PostgreSQL, the local default otherwise."""
    raw = os.environ.get("DATABASE_URL", "")
    url = make_url(raw if raw.startswith("postgresql") else DEFAULT_SERVER)
    return url.set(drivername="postgresql+psycopg")


@contextmanager
def scratch_database(engine: str, workdir: Path) -> Iterator[str]:
    """Yield the URL of an empty database for one bench run; PostgreSQL's is dropped at the end."""
    if engine == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    server = server_url()
    name = f"crm_bench_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
