"""Marshmallow schemas of the API, derived from the field registry (crm/services/record_types.py).

Each record type gets a read schema (every field, as stored: ids for choices and references),
a create schema (its API-writable fields, required ones required) and a patch schema (the same,
all optional, null clears). Adding a registry field adds it here. Custom fields travel in
`custom`; their properties are filled into the served document from the database
(crm/api/v1/docs.py), since admins add them at run time.
"""
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from crm.services.fields import Field, Kind
from crm.services.record_types import RECORD_TYPES, RecordType

MONEY_MAX = 10**12  # Numeric(14, 2)
ID = {"validate": validate.Range(min=1, max=2**63 - 1)}
ID_OR_NAME = {"type": ["integer", "string"]}
# Columns a record type has besides its registry fields (read-only).
EXTRA = {
    "lead": ("converted_at", "converted_contact_id", "converted_organization_id", "converted_deal_id",
             "origin_deal_id", "merged_into_id"),
}


class UtcDateTime(fields.DateTime):
    """A stored (naive, UTC) time as RFC 3339 with its offset: 2026-12-01T09:30:00+00:00."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class Strict(ma.Schema):
    """Unknown keys are an error (422), never silently dropped."""

    class Meta:
        unknown = ma.RAISE


class Error(ma.Schema):
    error = fields.String(required=True, metadata={"description": "What went wrong, for a person."})
    details = fields.Raw(allow_none=True, metadata={"description": "Per field or filter argument, when known."})


def _input(f: Field, required: bool) -> fields.Field:
    """The request field for a registry field."""
    options = {"required": required, "allow_none": not required,
               "metadata": {"description": str(f.description or f.label)}}
    if f.choices == "owner":
        return fields.Raw(**options | {"metadata": {
            **ID_OR_NAME, "description": "A user (id or email) or a distribution pool (pool:<id> or "
                                         "pool:<name>); the pool's next member gets the record."}})
    if f.kind == Kind.REFERENCE:
        return fields.Integer(**options, **ID)
    if f.choices and not isinstance(f.choices, tuple):  # a lead status or a stage: id or name
        return fields.Raw(**options | {"metadata": {**ID_OR_NAME, "description": f"{f.label}: id or name"}})
    if isinstance(f.choices, tuple) and f.choices:
        return fields.String(validate=validate.OneOf(f.choices), **options)
    match f.kind:
        case Kind.MONEY:
            return fields.Float(validate=validate.Range(min=0, max=MONEY_MAX, max_inclusive=False), **options)
        case Kind.GEO:
            return fields.Float(validate=validate.Range(*f.bounds), **options)
        case Kind.NUMBER:
            return fields.Float(validate=validate.Range(min=-1e15, max=1e15), **options)
        case Kind.DATE:
            return fields.Date(**options)
        case Kind.BOOLEAN:
            return fields.Boolean(**options)
        case Kind.EMAIL:
            return fields.String(validate=validate.Length(max=f.max_length), **options)
    length = validate.Length(min=1 if required else 0, max=f.max_length)
    return fields.String(validate=length, **options)


def _output(f: Field) -> fields.Field:
    """The response field for a registry field: the stored value (ids for choices and references)."""
    options = {"attribute": f.attr, "allow_none": True, "metadata": {"description": str(f.label)}}
    if f.kind == Kind.REFERENCE or (f.choices and not isinstance(f.choices, tuple)):
        return fields.Integer(**options)
    match f.kind:
        case Kind.MONEY | Kind.GEO | Kind.NUMBER:
            return fields.Float(**options)
        case Kind.DATE:
            return fields.Date(**options)
        case Kind.DATETIME:
            return UtcDateTime(**options)
        case Kind.BOOLEAN:
            return fields.Boolean(**options)
    return fields.String(**options)


def _custom(name: str) -> fields.Field:
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), metadata={
        "description": "Custom fields by key (Settings → Custom fields)", "x-custom-fields": name})


def record_schema(rtype: RecordType) -> type[ma.Schema]:
    """What the API returns for one record."""
    body: dict[str, fields.Field] = {"id": fields.Integer(required=True)}
    for f in rtype.fields:
        body[f.name] = _output(f)
        body |= {c: fields.Integer(allow_none=True) for c in f.companions}
    body |= {"team_id": fields.Integer(allow_none=True), "deleted_at": UtcDateTime(allow_none=True),
             "custom": _custom(rtype.label)}
    body |= {name: (UtcDateTime if name.endswith("_at") else fields.Integer)(allow_none=True)
             for name in EXTRA.get(rtype.name, ())}
    return ma.Schema.from_dict(body, name=rtype.label)


def write_schema(rtype: RecordType, *, partial: bool) -> type[ma.Schema]:
    """A create (`partial` False) or patch request of a record type."""
    body = {f.name: _input(f, required=bool(f.required) and not partial)
            for f in rtype.fields if f.api and not f.is_custom}
    body["custom"] = _custom(rtype.label)
    return Strict.from_dict(body, name=f"{rtype.label}{'Patch' if partial else 'Create'}")


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of a list, with the link to the next one."""
    return ma.Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "count": fields.Integer(required=True, metadata={"description": "Items matching, on every page"}),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "next": fields.String(allow_none=True, required=True,
                              metadata={"description": "URL of the next page; null on the last"}),
    }, name=f"{name}Page")


class PageArgs(ma.Schema):
    """Paging arguments; every other argument is a filter (the pages' arguments)."""

    class Meta:
        unknown = ma.INCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**6))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class FilterArgs(PageArgs):
    """The list pages' filter arguments (crm/services/filters.py reads them)."""

    owner = fields.List(fields.String(), metadata={"description": "User id, `me` or `none`; repeat for several"})
    status = fields.List(fields.String(), metadata={"description": "Lead status id; deals: open, won or lost"})
    stage = fields.List(fields.String(), metadata={"description": "Deal stage id"})
    pipeline = fields.String(metadata={"description": "Deal pipeline id"})
    territory = fields.List(fields.String(), metadata={"description": "Territory id or `none`"})
    source = fields.List(fields.String())
    q = fields.String(metadata={"description": "Text search"})
    created_from = fields.String(metadata={"description": "YYYY-MM-DD"})
    created_to = fields.String(metadata={"description": "YYYY-MM-DD"})
    located = fields.String(validate=validate.OneOf(["", "yes", "no"]))
    ids = fields.String(metadata={"description": "A selection: comma-separated ids"})
    trash = fields.String(metadata={"description": "1: records in the trash"})


SCHEMAS = {name: (record_schema(t), write_schema(t, partial=False), write_schema(t, partial=True))
           for name, t in RECORD_TYPES.items()}
PAGES = {name: page_schema(read, RECORD_TYPES[name].label) for name, (read, _c, _p) in SCHEMAS.items()}
