"""Which column goes to which field: common export headers recognised, the user's choice remembered.

A header is recognised by the field registry's aliases (common exports' names), else by a field's
label in any of the app's languages ("Företag", "Società", "Téléphone", "تلفن"), read through
gettext, so each language's header works as soon as its catalog translates the label.
"""
import hashlib
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.i18n import LANGUAGES, in_language
from crm.models.pools import ImportMapping
from crm.services.fields import Field, alias_index, normalize
from crm.services.record_types import RECORD_TYPES

NAME_PARTS = frozenset({"firstname", "middlename", "lastname"})  # columns that join into one name


def importable(record_type: str) -> list[Field]:
    """The fields a column can go to, in form order (the field registry decides)."""
    return [f for f in RECORD_TYPES[record_type].fields if f.importable]


def field_choices(record_type: str) -> list[tuple[str, str]]:
    """(field, label) of every field a column can go to, in form order."""
    return [(f.name, str(f.label)) for f in importable(record_type)]


def normalize_header(header: str) -> str:
    return normalize(header)


def normalize_label(text: str) -> str:
    """A header or label in any script, compared loosely: accents off, case folded, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def label_index(fields: list[Field]) -> dict[str, str]:
    """Normalized label in every language of the app -> field name (the first field of a shared label)."""
    index: dict[str, str] = {}
    for language in LANGUAGES:
        with in_language(language):  # crm.i18n: services translate through it
            for f in fields:
                index.setdefault(normalize_label(str(f.label)), f.name)
    return index


def header_key(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(normalize_header(h) for h in headers).encode()).hexdigest()[:64]


def guess_mapping(session: Session, record_type: str, headers: list[str]) -> dict[str, str]:
    """The mapping remembered for these headers, else common export headers mapped by name."""
    remembered = session.scalar(select(ImportMapping.mapping).where(
        ImportMapping.record_type == record_type, ImportMapping.header_key == header_key(headers)))
    if remembered:
        return remembered
    fields = importable(record_type)
    by_header, by_label = alias_index(fields), label_index(fields)
    mapping: dict[str, str] = {}
    for i, header in enumerate(headers):
        name = by_header.get(normalize_header(header)) or by_label.get(normalize_label(header), "")
        # Each field once (a Mobile column after Phone stays out), but a name's parts join.
        taken = name in mapping.values() and normalize_header(header) not in NAME_PARTS
        mapping[str(i)] = "" if taken else name
    return mapping


def clean_mapping(record_type: str, headers: list[str], chosen: dict[int, str]) -> dict[str, str]:
    """The mapping from the form: every column, each to a known field or to nothing."""
    fields = {f.name for f in importable(record_type)}
    return {str(i): chosen.get(i, "") if chosen.get(i, "") in fields else "" for i in range(len(headers))}


def remembered_values(session: Session, record_type: str, headers: list[str]) -> dict[str, dict[str, str]]:
    """What unknown values of choice columns became the last times these headers were imported."""
    return session.scalar(select(ImportMapping.value_map).where(
        ImportMapping.record_type == record_type, ImportMapping.header_key == header_key(headers))) or {}


def remember_mapping(session: Session, record_type: str, headers: list[str], mapping: dict,
                     value_map: dict | None = None) -> None:
    """Remember the column mapping, and add these value choices to the ones remembered before."""
    key = header_key(headers)
    row = session.scalar(select(ImportMapping).where(ImportMapping.record_type == record_type,
                                                     ImportMapping.header_key == key))
    if row is None:
        row = ImportMapping(record_type=record_type, header_key=key, mapping=mapping, value_map={})
        session.add(row)
    row.mapping = mapping
    values = {name: dict(choices) for name, choices in (row.value_map or {}).items()}
    for name, choices in (value_map or {}).items():
        values.setdefault(name, {}).update(choices)
    row.value_map = values
