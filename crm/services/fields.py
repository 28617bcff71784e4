"""The field registry: one description of every field of a record type.

A `Field` says what a field is (name, label, kind, where it is stored, its choices) and where it
takes part: the record form, the list, search and sort, filters, import, export, the API, the
merge panel and the duplicate check. Forms, list columns, the API, import mapping, merge rows and
duplicate keys are derived from it (`RecordType.fields` in crm/services/record_types.py, plus the
admin's custom fields through `fields_of`), so adding a field is one entry there (and its column).
"""
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import String, select
from sqlalchemy.orm import Session

from crm.i18n import _l
from crm.models import Contact, CustomField, LeadStatus, Organization, Stage


class Kind(StrEnum):
    """What a value is: decides the form input, the cell, the API type and the import parser."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    TAGS = "tags"  # comma-separated words
    MONEY = "money"
    NUMBER = "number"
    CHOICE = "choice"  # one of a list: fixed values or a source (lead statuses, stages)
    REFERENCE = "reference"  # another record or a user, by id
    GEO = "geo"  # latitude or longitude
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"


# Merge strategies (Odoo's per-field table): take one record's value, unite the tags, join the texts.
PICK, UNITE, CONCAT = "pick", "unite", "concat"


@dataclass(frozen=True)
class Field:
    """One field of one record type and every place it takes part in."""

    name: str  # form input, API key, import target, export header, sort key
    label: object  # a lazy string (`_l`): translated where it is shown
    kind: Kind = Kind.TEXT
    column: str = ""  # the model attribute (default: `name`); custom fields live in `custom`
    required: object = ""  # the message when it is missing; "" when optional
    choices: str | tuple[str, ...] = ()  # a source (crm/services/field_values.py) or fixed values
    relation: str = ""  # the model relationship behind a reference ("owner" for owner_id)
    companions: tuple[str, ...] = ()  # columns that change with this one (a stage's pipeline)
    group: str = ""  # fields shown and merged as one ("place": address, city, country, lat, lng)
    multiline: bool = False
    bounds: tuple[float, float] | None = None
    max_length: int | None = None  # filled from the model's column
    description: object = ""  # help under the form input
    currency: str = ""  # a money field: the field holding its currency
    searchable: bool = False
    sortable: bool = False
    sort_by: str = ""  # a reference or choice sorts by this column of the related row ("name", "position")
    filterable: bool = False
    listed: int | None = None  # position among the list's columns; None: not a column
    list_label: object = ""  # the column header when it differs from the label
    list_detail: str = ""  # a field shown under this one in its list cell
    shown: bool = True  # on the record page
    form: bool = True
    importable: bool = True
    exportable: bool = True
    api: bool = True  # writable through the API (every field is readable)
    merge: str | None = PICK  # None: not a merge panel row
    duplicate: str = ""  # its role in the duplicate check: email, phone, person, company, ...
    aliases: tuple[str, ...] = ()  # import headers that mean this field (normalized, see `normalize`)
    fallback: tuple[str, ...] = ()  # fields whose value fills this one when an import leaves it empty
    custom_key: str = ""  # a custom field's key in the record's `custom` values

    @property
    def attr(self) -> str:
        """Where the value lives on the model."""
        return self.column or self.name

    @property
    def form_name(self) -> str:
        return f"cf_{self.custom_key}" if self.custom_key else self.name

    @property
    def is_custom(self) -> bool:
        return bool(self.custom_key)

    @property
    def header(self) -> object:
        return self.list_label or self.label

    def value(self, record):
        """The stored value of this field on a record."""
        if self.custom_key:
            return (record.custom or {}).get(self.custom_key)
        return getattr(record, self.attr)


def normalize(header: str) -> str:
    """A header as aliases are written: lower case letters and digits only ("E-mail 1" -> "email1")."""
    return "".join(c for c in header.lower() if c.isascii() and c.isalnum())


def with_column_facts(fields: tuple[Field, ...], model: type) -> tuple[Field, ...]:
    """The fields with what the model's columns say: the maximum length of a text column."""
    table = model.__table__
    out = []
    for f in fields:
        column = table.c.get(f.attr)
        if f.max_length is None and column is not None and isinstance(column.type, String):
            f = replace(f, max_length=column.type.length)
        out.append(f)
    return tuple(out)


# What a choice source picks from (crm/services/field_values.py lists and parses them).
SOURCE_MODELS = {"lead_status": LeadStatus, "stage": Stage, "organization": Organization, "contact": Contact}


def column_values(field: Field, target) -> dict:
    """The columns a choice sets when `target` (a stage, a status, a record) is chosen."""
    values = {field.attr: target.id}
    if field.choices == "stage":
        values[field.companions[0]] = target.pipeline_id
    return values


# --- custom fields join the registry --------------------------------------------------------------

CUSTOM_KINDS = {"text": Kind.TEXT, "number": Kind.NUMBER, "date": Kind.DATE, "checkbox": Kind.BOOLEAN,
                "choice": Kind.CHOICE}
CUSTOM_TEXT_LENGTH = 500


def custom_field(cf: CustomField) -> Field:
    """An admin's custom field as a registry field (importing does not write them yet; the API does)."""
    kind = CUSTOM_KINDS.get(cf.kind, Kind.TEXT)
    required = _l("%(field)s is required.", field=cf.label) if cf.required and kind != Kind.BOOLEAN else ""
    return Field(f"custom.{cf.key}", cf.label, kind, required=required, custom_key=cf.key,
                 choices=tuple(cf.choices or ()) if kind == Kind.CHOICE else (),
                 max_length=CUSTOM_TEXT_LENGTH if kind == Kind.TEXT else None,
                 filterable=True, importable=False)


def custom_fields(session: Session, record_type: str) -> list[CustomField]:
    """The admin's custom fields of a record type, in their order."""
    return list(session.scalars(select(CustomField).where(CustomField.record_type == record_type)
                                .order_by(CustomField.position, CustomField.id)))


def fields_of(session: Session, rtype) -> list[Field]:
    """Every field of a record type: the registry's, then the admin's custom fields."""
    return [*rtype.fields, *(custom_field(cf) for cf in custom_fields(session, rtype.name))]


def importable_fields(session: Session, rtype) -> list[Field]:
    """The fields a CSV column can be mapped to, in form order."""
    return [f for f in fields_of(session, rtype) if f.importable]


def exportable_fields(session: Session, rtype) -> list[Field]:
    """The fields an export writes, in form order."""
    return [f for f in fields_of(session, rtype) if f.exportable]


def api_fields(session: Session, rtype) -> list[Field]:
    """The fields the API accepts in a create request."""
    return [f for f in fields_of(session, rtype) if f.api]


def merge_fields(session: Session, rtype) -> list[Field]:
    """The fields the merge panel combines (salesperson and team are chosen apart)."""
    return [f for f in fields_of(session, rtype) if f.merge]


def alias_index(fields: list[Field]) -> dict[str, str]:
    """Normalized header -> field name, for guessing an import mapping (a field's own name first)."""
    index = {normalize(f.name): f.name for f in fields}
    for f in fields:
        for alias in f.aliases:
            index.setdefault(alias, f.name)
    return index


def record_page_rows(fields: list[Field]) -> list[list[Field]]:
    """The record page's rows: shown fields, a group as one row, long texts and time stamps last."""
    rows: list[list[Field]] = []
    for f in fields:
        if not f.shown:
            continue
        if f.group and rows and rows[-1][0].group == f.group:
            rows[-1].append(f)
        else:
            rows.append([f])
    return sorted(rows, key=lambda row: (row[0].multiline, row[0].kind == Kind.DATETIME))
