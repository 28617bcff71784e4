"""Values of choice columns the app does not know, and what each becomes (the value-mapping step).

A Salesforce lead export says "Open - Not Contacted" in its Lead Status column; the app's statuses
are called otherwise. Before a run, every distinct unknown value of a mapped status, stage, source
or owner column is listed with a choice: an existing value, a new one (a status: admins only; a
source: anyone, it is free text), the default (what a row with an empty cell gets), or rejecting
the rows (the rejects file lists them with the reason; not for a source). The choices
are remembered with the column mapping for the same headers (`ImportMapping.value_map`), so the
next export of the same columns goes in without asking again.

A choice is stored as text: "" (the default), "new", "reject", "id:<status or stage id>", "owner:<owner
choice>" or "text:<an existing source>". Keys are the file's values in lower case (the app matches
statuses, stages and owner names case-insensitively).
"""
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import LeadStatus, Stage, User
from crm.models.pools import ImportJob
from crm.services import DomainError, lead_statuses, owners
from crm.services.field_values import default_values, options
from crm.services.fields import Field
from crm.services.filters import distinct_values
from crm.services.importing.mapping import importable
from crm.services.importing.reading import rows
from crm.services.record_types import RECORD_TYPES

DEFAULT, NEW, REJECT = "", "new", "reject"
MAX_LISTED = 100  # distinct unknown values listed per column; rows with others are rejected as before
SOURCES_KNOWN = 500  # existing sources a file's source is compared with


def choice_fields(record_type: str) -> dict[str, Field]:
    """The importable fields whose values are choices: status, stage, owner, and the (free text) source."""
    return {f.name: f for f in importable(record_type)
            if f.choices in ("lead_status", "stage", "owner") or f.name == "source"}


def posted_choices(imp: ImportJob, form: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The choices the page's value step sent, for the values it listed (`value_<field>_<n>`)."""
    chosen: dict[str, dict[str, str]] = {}
    for name, listed in (imp.unknown_values or {}).items():
        for n, (value, _rows) in enumerate(listed):
            choice = form.get(f"value_{name}_{n}")
            if choice is not None:
                chosen.setdefault(name, {})[value.lower()] = choice
    return chosen


def prepare(session: Session, imp: ImportJob, actor: User, chosen: dict[str, dict[str, str]],
            remembered: dict[str, dict[str, str]]) -> int:
    """List the file's unknown values for the current mapping and settle what each becomes: the
    choice just posted, else the one made before for this file, else the one remembered for these
    headers (when still valid). Returns how many listed values still need a choice (0: ready to run).
    A posted choice that is not offered is refused with a DomainError (nothing is saved)."""
    rtype = RECORD_TYPES[imp.record_type]
    imp.unknown_values = _scan(session, imp, actor)
    value_map: dict[str, dict[str, str]] = {}
    undecided = 0
    for name, listed in imp.unknown_values.items():
        offered = {choice for choice, _label in value_choices(session, rtype.by_name[name], actor, imp.record_type)}
        earlier = (imp.value_map or {}).get(name, {})
        for value, _rows in listed:
            key = value.lower()
            posted = chosen.get(name, {}).get(key)
            if posted is not None and posted not in offered:
                raise DomainError(_("Choose what “%(value)s” becomes from the list.", value=value))
            choice = next((c for c in (posted, earlier.get(key), remembered.get(name, {}).get(key))
                           if c is not None and c in offered), None)
            if choice is None:
                undecided += 1
            else:
                value_map.setdefault(name, {})[key] = choice
    imp.value_map = value_map
    return undecided


def value_choices(session: Session, field: Field, actor: User, record_type: str) -> list[tuple[str, str]]:
    """(choice, label) for an unknown value of this field: the default, a new value where the actor
    may create one, rejecting the rows, then every existing value."""
    if field.name == "source":
        return ([(NEW, _("Keep it as a new source")), (DEFAULT, _("The default (%(value)s)", value="Import"))]
                + [(f"text:{s}", s) for s in _sources(session, record_type)])
    if field.choices == "owner":
        return [(DEFAULT, _("The default owner")), (REJECT, _("Reject these rows"))] + [
            (f"owner:{c}", label) for c, label in owners.owner_choices(session, actor, record_type)]
    default = default_values(session, [field]).get(field.attr)
    existing = [(f"id:{value}", label) for value, label in options(session, field, actor, record_type)]
    named = next((label for choice, label in existing if choice == f"id:{default}"), "")
    out = [(DEFAULT, _("The default (%(value)s)", value=named) if named else _("The default"))]
    if field.choices == "lead_status" and actor.is_admin:
        out.append((NEW, _("Create it as a new open status")))
    return out + [(REJECT, _("Reject these rows"))] + existing


def resolve_new(session: Session, imp: ImportJob, actor: User) -> None:
    """Before a real run: create the statuses chosen as new (or find one made since by that name)
    and point the choices at them, so the run, a resume and the next import use the same status."""
    for key, choice in (imp.value_map or {}).get("status", {}).items():
        if choice != NEW:
            continue
        value = next(v for v, _rows in imp.unknown_values["status"] if v.lower() == key)
        status = session.scalar(select(LeadStatus).where(func.lower(LeadStatus.name) == key)) \
            or lead_statuses.add_status(session, actor, value, "open")
        imp.value_map = {**imp.value_map, "status": {**imp.value_map["status"], key: f"id:{status.id}"}}


def apply(value_map: dict[str, dict[str, str]], raw: dict[str, str]) -> str | None:
    """Put a row's mapped values in place of the file's (in `raw`); the owner choice a mapped owner
    cell names, else None. A status still "new" in a dry run counts as the default (it exists only
    once the real run has created it). A value whose rows are rejected stays, for the parser to refuse."""
    owner = None
    for name, choices in value_map.items():
        choice = choices.get(raw.get(name, "").lower()) if name in raw else None
        if choice is None or choice == REJECT or (choice == NEW and name == "source"):
            continue
        if choice == DEFAULT or choice == NEW:
            del raw[name]
        elif name == "owner":
            owner, raw[name] = choice.removeprefix("owner:"), ""
        else:
            raw[name] = choice.split(":", 1)[1]
    return owner


def _scan(session: Session, imp: ImportJob, actor: User) -> dict[str, list[list]]:
    """{field: [[value as first spelled, rows], ...]} of the values the app does not know, most rows first."""
    fields = choice_fields(imp.record_type)
    columns = {int(i): name for i, name in imp.mapping.items() if name in fields}
    if not columns:
        return {}
    known = {name: _known(session, fields[name], imp.record_type) for name in set(columns.values())}
    found: dict[str, dict[str, list]] = {}
    for raw in _cells(Path(imp.path), imp, columns):
        for name, value in raw.items():
            if value.lower() not in known[name]:
                found.setdefault(name, {}).setdefault(value.lower(), [value, 0])[1] += 1
    return {name: sorted(values.values(), key=lambda v: (-v[1], v[0].lower()))[:MAX_LISTED]
            for name, values in found.items()}


def _cells(path: Path, imp: ImportJob, columns: dict[int, str]) -> Iterator[dict[str, str]]:
    """Each row's values of the choice columns, joined as the classifier joins them."""
    for cells in rows(path, imp):
        raw: dict[str, str] = {}
        for i, name in columns.items():
            value = cells[i].strip() if i < len(cells) else ""
            if value:
                raw[name] = f"{raw[name]} {value}" if name in raw else value
        yield raw


def _known(session: Session, field: Field, record_type: str) -> set[str]:
    """The values (lower case) the app reads for this field without being told."""
    if field.name == "source":
        return {s.lower() for s in _sources(session, record_type)}
    if field.choices == "owner":
        return {name for name, choice in owners.choices_by_name(session, record_type).items() if choice}
    model = LeadStatus if field.choices == "lead_status" else Stage
    return {k for i, n in session.execute(select(model.id, model.name)) for k in (n.lower(), str(i))}


def _sources(session: Session, record_type: str) -> list[str]:
    model = RECORD_TYPES[record_type].model
    return distinct_values(session, model.source, [model.deleted_at.is_(None)], limit=SOURCES_KNOWN)
