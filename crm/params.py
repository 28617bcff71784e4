"""The one reading of numbers, ids and dates from URLs and forms (and of every value's characters).

Everything a user types reaches the database through these: ASCII digits only ("²" and "①" pass
str.isdigit() but are no numbers), within the column's range (ids are 32-bit INTEGERs on
PostgreSQL), dates within years people plan in, and no NUL characters anywhere (PostgreSQL text
cannot hold them). Anything else is None (the caller says what was wrong) or, for NUL, a 400.
Framework-free: services use it too.
"""
from collections.abc import Iterable
from datetime import date, datetime

from crm.services import DomainError

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL
MAX_DIGITS = 18  # beyond this a number is absurd for any field here (and fits 64 bits)
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)
NUL = "\x00"


def to_int(raw: str | None, *, low: int = 0, high: int = MAX_ID, max_digits: int = MAX_DIGITS) -> int | None:
    """The whole number `raw` spells in ASCII digits, if it lies in [low, high]; else None."""
    raw = (raw or "").strip()
    if not raw or len(raw) > max_digits or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def to_id(raw: str | None) -> int | None:
    """A record, user or other row id: 1 .. 2^31-1."""
    return to_int(raw, low=1)


def optional_id(raw: str | None, what: str) -> int | None:
    """None for an empty choice ("no team", "no owner"), else the id; DomainError for anything else."""
    if not (raw or "").strip():
        return None
    ident = to_id(raw)
    if ident is None:
        raise DomainError(f"Unknown {what} {shown(raw)!r}. Nothing was changed.")
    return ident


def to_ids(values: Iterable[str]) -> list[int] | None:
    """Ids from values that may each hold several, comma-separated; None if any part is not an id."""
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    ids = [to_id(part) for part in parts]
    return None if None in ids else ids


def to_date(raw: str | None) -> date | None:
    """An ISO date (2026-04-01, or 20260401) between 1900 and 2199; else None."""
    raw = (raw or "").strip()
    if not 8 <= len(raw) <= 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def to_datetime(raw: str | None) -> datetime | None:
    """An ISO date and time (a datetime-local value, 2026-04-01T10:30) between 1900 and 2199; else None."""
    raw = (raw or "").strip()
    if not 10 <= len(raw) <= 26:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=None) if FIRST_DAY <= moment.date() <= LAST_DAY else None


def shown(raw: str, limit: int = 60) -> str:
    """A value as an error message may quote it: short, so a huge value is never echoed in full."""
    return raw if len(raw) <= limit else raw[:limit] + "…"


def has_nul(values: Iterable[str]) -> bool:
    return any(NUL in value for value in values)
