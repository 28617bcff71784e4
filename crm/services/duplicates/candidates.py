"""Similar records from the database: SQL fetches a small superset of candidates, `matching` scores them.

- `find_similar(session, rtype, record_or_values, viewer=None, limit=...)`: the records like one
  record (or like values about to be saved: create form, import, capture).
- `duplicate_groups(session, rtype, viewer)`: likely duplicates across the table, compared within
  blocks only (see `matching`).
"""
from collections.abc import Mapping

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from crm.models import User
from crm.services.duplicates.matching import (
    NON_DIGIT, PROFILES, Group, Match, Signature, compare, likely_groups, signature,
)
from crm.services.permissions import visible_clause
from crm.services.record_types import RECORD_TYPES, RecordType

MAX_CANDIDATES = 2000
GROUPS_KEPT = 16  # duplicate_groups results kept, oldest dropped first


# --- one record: find_similar ----------------------------------------------------------------

def find_similar(session: Session, rtype: RecordType | str, values_or_record, viewer: User | None = None,
                 limit: int | None = 20) -> list[Match]:
    """Records like this one (or like these form values), best first, each with its reasons.

    `values_or_record` is a model instance or a mapping of column names to values (as a create
    form, an import row or a capture submission has them). With a viewer, only records the
    viewer may see are returned. Trashed records never match.
    """
    rtype = RECORD_TYPES[rtype] if isinstance(rtype, str) else rtype
    record_id, values = _values(rtype, values_or_record)
    probe = signature(rtype.name, values, record_id)
    where, strong_count = _candidate_conditions(rtype, probe, session.get_bind().dialect.name)
    if not where:
        return []
    model = rtype.model
    stmt = select(*_columns(rtype)).where(model.deleted_at.is_(None), or_(*where))
    if record_id is not None:
        stmt = stmt.where(model.id != record_id)
    if viewer is not None:
        stmt = stmt.where(visible_clause(model, viewer))
    strong = case((or_(*where[:strong_count]), 0), else_=1) if strong_count else literal(1)
    matches = []
    for row in session.execute(stmt.order_by(strong, model.id).limit(MAX_CANDIDATES)).mappings():
        reasons = compare(rtype.name, probe, signature(rtype.name, row, row["id"]))
        if reasons:
            matches.append(Match(row["id"], row["title"], reasons))
    matches.sort(key=lambda m: (-m.score, m.id))
    return matches[:limit] if limit else matches


def _values(rtype: RecordType, probe) -> tuple[int | None, Mapping]:
    if isinstance(probe, Mapping):
        return probe.get("id"), probe
    return probe.id, {name: getattr(probe, name) for name in PROFILES[rtype.name].columns}


def _columns(rtype: RecordType) -> list:
    model = rtype.model
    return [model.id, getattr(model, rtype.title_column).label("title"),
            *(getattr(model, n) for n in PROFILES[rtype.name].columns)]


def _candidate_conditions(rtype: RecordType, probe: Signature, dialect: str) -> tuple[list, int]:
    """SQL that surely finds every record that could match (a superset; Python decides).

    Email and phone conditions come first (their count is returned): they are fetched first
    so that a common name cannot crowd an exact email out of the capped candidate list.
    """
    model, profile = rtype.model, PROFILES[rtype.name]
    like = _like(dialect)
    where = []
    if probe.email:
        local, _, domain = probe.email.partition("@")
        if domain == "gmail.com":  # gmail ignores dots: compare without any
            where.append(like(func.replace(getattr(model, profile.email), ".", ""), f"{_escape(local)}%@gmailcom"))
        else:  # "ana+crm@acme.com" is "ana@acme.com"
            where.append(like(getattr(model, profile.email), f"{_escape(local)}%@{_escape(domain)}"))
    if probe.phone:
        # The last 7 digits in order, whatever the separators ("+46 8 123 45 67", "08-1234567").
        where.append(like(getattr(model, profile.phone), "%" + "%".join(NON_DIGIT.sub("", probe.phone)[-7:])))
    strong_count = len(where)
    if probe.domain:
        if profile.email:
            where.append(like(getattr(model, profile.email), f"%@{_escape(probe.domain)}"))
        if profile.website:
            where.append(like(getattr(model, profile.website), f"%{_escape(probe.domain)}%"))
    if profile.person and probe.person:
        where.append(_name_like(like, getattr(model, profile.person), probe.person))
    if profile.company and probe.company:
        where.append(_name_like(like, getattr(model, profile.company), probe.company))
    if profile.organization and probe.organization:
        where.append(getattr(model, profile.organization) == probe.organization)
    return [w for w in where if w is not None], strong_count


def _like(dialect: str):
    """Case-insensitive LIKE. SQLite's LIKE already ignores (ASCII) case, and lower() on every
    row would cost a function call each; PostgreSQL needs ILIKE."""
    if dialect == "sqlite":
        return lambda column, pattern: column.like(pattern, escape="\\")
    return lambda column, pattern: column.ilike(pattern, escape="\\")


def _name_like(like, column, name: str):
    """Every word's first three letters somewhere in the name (a typo later in a word still matches)."""
    prefixes = [w[:3] for w in name.split() if len(w) >= 3][:4]
    if not prefixes:
        return None
    return and_(*(like(column, f"%{_escape(p)}%") for p in prefixes))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- the whole table: duplicate_groups -------------------------------------------------------

def duplicate_groups(session: Session, rtype: RecordType | str, viewer: User) -> list[Group]:
    """Groups of likely duplicates among the records the viewer may see, best first.

    A pass over 100,000 records takes seconds, so the result is kept while the records the viewer
    sees are unchanged (same count, newest id and last update): paging through it is instant.
    """
    rtype = RECORD_TYPES[rtype] if isinstance(rtype, str) else rtype
    model = rtype.model
    where = [model.deleted_at.is_(None), visible_clause(model, viewer)]
    state = session.execute(select(func.count(), func.max(model.id), func.max(model.updated_at)).where(*where)).one()
    key = (session.get_bind().url.render_as_string(), rtype.name, viewer.id, viewer.role, viewer.team_id, *state)
    if key not in _GROUPS:
        rows = session.execute(select(*_columns(rtype)).where(*where).order_by(model.id)).mappings()
        sigs = [signature(rtype.name, row, row["id"]) for row in rows]
        while len(_GROUPS) >= GROUPS_KEPT:
            _GROUPS.pop(next(iter(_GROUPS)))
        _GROUPS[key] = likely_groups(rtype.name, sigs)
    return _GROUPS[key]


_GROUPS: dict[tuple, list["Group"]] = {}


def forget_groups() -> None:
    """Drop the kept duplicate_groups results (the bench times a full pass)."""
    _GROUPS.clear()

