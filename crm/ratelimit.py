"""Rate-limit counters that every worker process shares: Redis when REDIS_URL is set, otherwise a
SQLite file in instance/ (Flask-Limiter's "memory://" would count per gunicorn worker).

`SQLiteStorage` registers the `sqlite:///path` scheme with the `limits` library for the
fixed-window strategy: one row per counter, incremented in one UPSERT statement, so concurrent
workers never lose a hit.
"""
import hashlib
import sqlite3
import threading
import time

from limits.storage import Storage

SCHEMA = ("CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, value INTEGER NOT NULL, "
          "expires REAL NOT NULL)")


def _tag(database_url: str) -> str:
    return hashlib.sha1(database_url.encode()).hexdigest()[:10]


def storage_uri(redis_url: str, instance: str, database_url: str) -> str:
    """Where the counters live: Redis, or a SQLite file per database (like the job queue)."""
    return redis_url or f"sqlite:///{instance}/ratelimit-{_tag(database_url)}.db"


def key_prefix(database_url: str) -> str:
    """Counters of apps on different databases never mix, even in one shared Redis."""
    return f"crm-{_tag(database_url)}"


class SQLiteStorage(Storage):
    """A `limits` storage on a SQLite file, shared by every process that opens the same file."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.removeprefix("sqlite:///")
        self._local = threading.local()
        with self._db() as conn:
            conn.execute(SCHEMA)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not cross threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=15, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        conn = self._db()
        if int(now) % 60 == 0:  # now and then, drop the counters whose window is over
            conn.execute("DELETE FROM counter WHERE expires <= ?", (now,))
        row = conn.execute(
            "INSERT INTO counter (key, value, expires) VALUES (?1, ?2, ?3 + ?4) ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN expires <= ?3 THEN ?2 ELSE value + ?2 END, "
            "expires = CASE WHEN expires <= ?3 THEN ?3 + ?4 ELSE expires END RETURNING value",
            (key, amount, now, expiry)).fetchone()
        return row[0]

    def get(self, key: str) -> int:
        row = self._db().execute("SELECT value FROM counter WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._db().execute("SELECT expires FROM counter WHERE key = ? AND expires > ?",
                                 (key, time.time())).fetchone()
        return row[0] if row else time.time()

    def check(self) -> bool:
        try:
            self._db().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        conn = self._db()
        count = conn.execute("SELECT count(*) FROM counter").fetchone()[0]
        conn.execute("DELETE FROM counter")
        return count

    def clear(self, key: str) -> None:
        self._db().execute("DELETE FROM counter WHERE key = ?", (key,))
