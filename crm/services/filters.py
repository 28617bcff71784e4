"""The one place that knows how a filter maps to SQL.

Every list, the kanban, the map, mass change and the API parse the URL's arguments with
`parse_filter` and build their query with `filtered_select`, which also applies the viewer's
permissions. A filter with an invalid value matches nothing (and says why): a filter that
silently fell away would widen a mass change to the whole table.
"""
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Protocol

from sqlalchemy import Boolean, Select, and_, bindparam, exists, false, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from crm.models import CustomField, LeadStatus, Pipeline, Stage, Territory, User
from crm.i18n import _
from crm.params import shown, to_date, to_id, to_ids, to_int
from crm.services.permissions import visible_clause
from crm.services.record_types import RecordType

MAX_IDS = 100_000
DEAL_STATUSES = ("open", "won", "lost")


class MultiArgs(Protocol):
    def getlist(self, key: str) -> list[str]: ...

    def keys(self) -> Iterable[str]: ...


@dataclass
class Filter:
    owner: list[int] = field(default_factory=list)  # 0 means "no owner"
    stage: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)  # lead status ids, or open/won/lost for deals
    pipeline: int | None = None
    territory: list[int] = field(default_factory=list)  # 0 means "no territory"
    source: list[str] = field(default_factory=list)
    q: str = ""
    created_from: date | None = None
    created_to: date | None = None
    located: str = ""  # "yes" | "no" | ""
    custom: dict[str, str] = field(default_factory=dict)
    score_min: int | None = None  # leads: score at least (crm/services/scoring.py)
    ids: list[int] | None = None
    trash: bool = False
    errors: list[str] = field(default_factory=list)
    custom_kinds: dict[str, str] = field(default_factory=dict)

    def to_args(self) -> list[tuple[str, str]]:
        """The filter as URL arguments, in a stable order (for links, saved lists, other views)."""
        args: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("errors", "custom_kinds") or value in (None, "", [], {}, False):
                continue
            if f.name == "custom":
                args += [(f"cf_{k}", v) for k, v in sorted(value.items())]
            elif f.name == "ids":
                args.append(("ids", ",".join(map(str, value))))
            elif f.name == "trash":
                args.append(("trash", "1"))
            elif isinstance(value, list):
                args += [(f.name, _arg(v, f.name)) for v in value]
            else:
                args.append((f.name, value.isoformat() if isinstance(value, date) else str(value)))
        return args

    def without(self, *names: str) -> "Filter":
        copy = Filter(**{f.name: getattr(self, f.name) for f in fields(self)})
        for name in names:
            setattr(copy, name, Filter.__dataclass_fields__[name].default_factory()
                    if name in ("owner", "stage", "status", "territory", "source", "custom")
                    else Filter.__dataclass_fields__[name].default)
        return copy

    @property
    def is_empty(self) -> bool:
        return not self.to_args()


def _arg(value, name: str) -> str:
    if value == 0 and name in ("owner", "territory"):
        return "none"
    return str(value)


def parse_filter(session: Session, rtype: RecordType, args: MultiArgs, viewer: User) -> Filter:
    flt = Filter()
    flt.owner = _ids(args.getlist("owner"), "owner", flt, me=viewer.id)
    flt.territory = _ids(args.getlist("territory"), "territory", flt)
    flt.source = [s.strip() for s in args.getlist("source") if s.strip()]
    flt.q = " ".join(" ".join(args.getlist("q")).split())[:200]
    flt.created_from = _date(args.getlist("created_from"), "created_from", flt)
    flt.created_to = _date(args.getlist("created_to"), "created_to", flt)
    if flt.created_from and flt.created_to and flt.created_from > flt.created_to:
        flt.errors.append(f"Created from {flt.created_from.isoformat()} is after created to "
                          f"{flt.created_to.isoformat()}.")
    flt.trash = "1" in args.getlist("trash")
    located = (args.getlist("located") or [""])[0]
    if located not in ("", "yes", "no"):
        flt.errors.append(f"Unknown location filter {shown(located)!r}: use yes or no.")
    flt.located = located if located in ("yes", "no") else ""
    flt.ids = _selection(args.getlist("ids"), flt)
    flt.score_min = _score_min(rtype, (args.getlist("score_min") or [""])[0].strip(), flt)
    source = _position_source(rtype)
    if source == "stage":
        flt.stage = _ids(args.getlist("stage"), "stage", flt)
        flt.pipeline = (_ids(args.getlist("pipeline")[:1], "pipeline", flt) or [None])[0]
        flt.status = [s for s in args.getlist("status") if s]
        for s in flt.status:
            if s not in DEAL_STATUSES:
                flt.errors.append(f"Unknown deal status {shown(s)!r}: use open, won or lost.")
    elif source == "lead_status":
        flt.status = [str(i) for i in _ids(args.getlist("status"), "status", flt)]
    for key in args.keys():
        if key.startswith("cf_"):
            value = (args.getlist(key) or [""])[0].strip()
            if value:
                flt.custom[key[3:]] = value
    _check_references(session, rtype, flt)
    return flt


def _score_min(rtype: RecordType, raw: str, flt: Filter) -> int | None:
    if not raw:
        return None
    score = to_int(raw, high=100) if hasattr(rtype.model, "score") else None
    if score is None:
        flt.errors.append(_("A minimum score is a whole number from 0 to 100, not %(value)s.", value=repr(shown(raw)))
                          if hasattr(rtype.model, "score") else _("Only leads have a score."))
    return score


def _position_source(rtype: RecordType) -> str | None:
    """Where the record type's pipeline position comes from: "stage" (deals), "lead_status" (leads)."""
    return rtype.position_field.choices if rtype.position else None


def _ids(values: list[str], name: str, flt: Filter, me: int | None = None) -> list[int]:
    ids = []
    for raw in (v.strip() for v in values):
        if not raw:
            continue
        if raw == "me" and me is not None:
            ids.append(me)
        elif raw == "none" and name in ("owner", "territory"):
            ids.append(0)
        elif (ident := to_id(raw)) is not None:
            ids.append(ident)
        else:
            flt.errors.append(f"Unknown {name} {shown(raw)!r}.")
    return ids


def _date(values: list[str], name: str, flt: Filter) -> date | None:
    raw = (values or [""])[0].strip()
    if not raw:
        return None
    day = to_date(raw)
    if day is None:
        flt.errors.append(f"{name.replace('_', ' ').capitalize()} {shown(raw)!r} is not a date "
                          "(use YYYY-MM-DD, between 1900 and 2199).")
    return day


def _selection(values: list[str], flt: Filter) -> list[int] | None:
    raw = [part.strip() for v in values for part in v.split(",") if part.strip()]
    if not values:
        return None
    if len(raw) > MAX_IDS:
        flt.errors.append(f"A selection can hold at most {MAX_IDS:,} records.")
        return []
    ids = to_ids(raw)
    if ids is None:
        flt.errors.append("The selection holds ids that are not numbers.")
        return []
    return sorted(set(ids))


def _check_references(session: Session, rtype: RecordType, flt: Filter) -> None:
    """Ids in a filter must name existing things; a typo should not look like "no results"."""
    checks = [(User, [i for i in flt.owner if i], "owner"),
              (Territory, [i for i in flt.territory if i], "territory"),
              (Stage, flt.stage, "stage")]
    if flt.pipeline:
        checks.append((Pipeline, [flt.pipeline], "pipeline"))
    if _position_source(rtype) == "lead_status":
        checks.append((LeadStatus, [int(s) for s in flt.status], "status"))
    for model, ids, name in checks:
        if ids:
            found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
            flt.errors += [f"There is no {name} #{i}." for i in ids if i not in found]
    if flt.custom:
        known = {f.key: f for f in session.scalars(
            select(CustomField).where(CustomField.record_type == rtype.name))}
        flt.errors += [f"There is no custom field {shown(k)!r}." for k in flt.custom if k not in known]
        flt.custom_kinds = {k: known[k].kind for k in flt.custom if k in known}
        for key, value in flt.custom.items():
            kind = flt.custom_kinds.get(key)
            if kind == "number" and not _is_number(value):
                flt.errors.append(f"{known[key].label} must be a number, not {shown(value)!r}.")
            elif kind == "date":
                parsed = to_date(value)
                if parsed is None:
                    flt.errors.append(f"{known[key].label} {shown(value)!r} is not a date (use YYYY-MM-DD).")
                else:
                    flt.custom[key] = parsed.isoformat()  # as stored: 20260401 finds 2026-04-01


def _is_number(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number)  # "nan" and "inf" parse, but no stored value equals them


def owner_options(session: Session, rtype: RecordType, viewer: User) -> list[tuple[int, str]]:
    """The owners worth filtering by: those of the records the viewer may see, by name."""
    model = rtype.model
    owns = exists().where(model.owner_id == User.id, *conditions(rtype, Filter(), viewer))
    return [tuple(row) for row in session.execute(select(User.id, User.name).where(owns).order_by(User.name))]


def filtered_select(rtype: RecordType, flt: Filter, viewer: User, *, for_edit: bool = False,
                    columns: tuple = ()) -> Select:
    """SELECT of the records (or the given columns) matching the filter that the viewer may see."""
    model = rtype.model
    stmt = select(*columns) if columns else select(model)
    if columns:
        stmt = stmt.select_from(model)
    return stmt.where(*conditions(rtype, flt, viewer, for_edit=for_edit))


def conditions(rtype: RecordType, flt: Filter, viewer: User, *, for_edit: bool = False) -> list:
    """The WHERE of a filter for this viewer. The trash shows only what the viewer may restore
    (change), the same rule on the trash page and on a list's `?trash=1`."""
    model = rtype.model
    if flt.errors:
        return [false()]
    where = [visible_clause(model, viewer, for_edit=for_edit or flt.trash)]
    where.append(model.deleted_at.is_not(None) if flt.trash else model.deleted_at.is_(None))
    if flt.owner:
        where.append(_in_or_null(model.owner_id, flt.owner))
    if flt.territory:
        where.append(_in_or_null(model.territory_id, flt.territory))
    if flt.source:
        where.append(model.source.in_(flt.source))
    if flt.q:
        where += [or_(*(contains(getattr(model, c), word) for c in rtype.search_columns))
                  for word in flt.q.split()]
    if flt.created_from:
        where.append(model.created_at >= datetime.combine(flt.created_from, time.min))
    if flt.created_to:
        where.append(model.created_at < datetime.combine(flt.created_to + timedelta(days=1), time.min))
    if flt.located == "yes":
        where.append(and_(model.lat.is_not(None), model.lng.is_not(None)))
    elif flt.located == "no":
        where.append(or_(model.lat.is_(None), model.lng.is_(None)))
    if flt.score_min is not None:
        where.append(model.score >= flt.score_min)
    if flt.ids is not None:
        where.append(_in_selection(model.id, flt.ids))
    where += _stage_conditions(rtype, flt)
    where += [custom_condition(model, key, value, flt.custom_kinds.get(key, "text"))
              for key, value in flt.custom.items()]
    return where


def _in_selection(column, ids: list[int]):
    # Rendered inline (the ids are validated integers): a selection of 100,000 ids would
    # exceed SQLite's limit of 32,766 bound parameters.
    if not ids:
        return false()
    return column.in_(bindparam("selection", ids, expanding=True, literal_execute=True, unique=True))


def _stage_conditions(rtype: RecordType, flt: Filter) -> list:
    source = _position_source(rtype)
    if source is None:
        return []
    position = getattr(rtype.model, rtype.position_field.attr)
    where = []
    if source == "lead_status" and flt.status:
        where.append(position.in_([int(s) for s in flt.status]))
    if source == "stage":
        if flt.stage:
            where.append(position.in_(flt.stage))
        if flt.pipeline:
            where.append(getattr(rtype.model, rtype.position_field.companions[0]) == flt.pipeline)
        if flt.status:
            kinds = []
            if "won" in flt.status:
                kinds.append(Stage.is_won)
            if "lost" in flt.status:
                kinds.append(Stage.is_lost)
            if "open" in flt.status:
                kinds.append(and_(~Stage.is_won, ~Stage.is_lost))
            where.append(position.in_(select(Stage.id).where(or_(*kinds))))
    return where


def custom_condition(model, key: str, value: str, kind: str):
    element = model.custom[key]
    if kind == "checkbox":
        wanted = value.lower() in ("yes", "true", "1", "on")
        return func.coalesce(element.as_boolean(), False) == wanted
    if kind == "number":
        return element.as_float() == float(value)
    if kind in ("choice", "date"):
        return element.as_string() == value
    return contains(func.coalesce(element.as_string(), ""), value)


def _in_or_null(column, ids: list[int]):
    real = [i for i in ids if i]
    parts = [column.in_(real)] if real else []
    if 0 in ids:
        parts.append(column.is_(None))
    return or_(*parts)


def contains(column, text: str):
    """Text search: the column contains the text, ignoring case for every alphabet."""
    if text.isascii():  # SQLite's own lower() is enough, and much faster than a Python function
        return column.ilike(f"%{_escape(text)}%", escape="\\")
    return UnicodeContains(column, text)


class UnicodeContains(ColumnElement):
    """ILIKE on PostgreSQL. SQLite's ILIKE is lower(x) LIKE lower(y), whose lower() folds ASCII only
    (MÜLLER would not find Müller), so there both sides go through unicode_lower(), Python's
    str.lower that crm.database registers on every SQLite connection."""
    type = Boolean()
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("pattern", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, text: str):
        self.column = column
        self.pattern = literal(f"%{_escape(text)}%")


@compiles(UnicodeContains)
def _unicode_contains(element: UnicodeContains, compiler, **kw) -> str:
    return compiler.process(element.column.ilike(element.pattern, escape="\\"), **kw)


@compiles(UnicodeContains, "sqlite")
def _unicode_contains_sqlite(element: UnicodeContains, compiler, **kw) -> str:
    folded = func.unicode_lower(element.column).like(func.unicode_lower(element.pattern), escape="\\")
    return compiler.process(folded, **kw)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def distinct_values(session: Session, column, where: list, limit: int = 50) -> list[str]:
    """The distinct non-empty values of an indexed text column, in order, for a filter's choices.

    One `min(column) WHERE column > previous` per value: each is a short walk of the column's index,
    where `SELECT DISTINCT` reads the whole table (a few values over a million rows).
    """
    values: list[str] = []
    while len(values) < limit:
        after = values[-1] if values else ""
        value = session.scalar(select(func.min(column)).where(column > after, *where))
        if value is None:
            break
        values.append(value)
    return values
