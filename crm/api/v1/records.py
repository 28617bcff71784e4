"""Leads, deals, contacts and organizations: list, get, create, patch, delete (to the trash), restore.

Routes are made per record type from the registry, over the services the pages use: the filter
builder (which applies the caller's permissions), the owner service, create/update/trash/restore.
"""
from flask import request, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from crm.api.v1.calls import ApiError, add_route, caller, limited, viewer
from crm.api.v1.schemas import PAGES, SCHEMAS, FilterArgs
from crm.counts import CachedCountPagination
from crm.extensions import db
from crm.i18n import _
from crm.services.deal_restore import restore_one
from crm.services import assignment
from crm.services.editing import create_record, require_changeable, trash_record, update_record
from crm.services.field_values import ValueParser
from crm.services.fields import Field, api_fields
from crm.services.filters import filtered_select, parse_filter
from crm.services.owners import assign, check_owner_kept, via_of
from crm.services.permissions import visible_clause
from crm.services.record_types import RECORD_TYPES, RecordType
from crm.services.settings import LEADS_OFF, enabled_types

blp = Blueprint("api_records", __name__, url_prefix="/api/v1", description="Leads, deals, contacts, organizations")
limited(blp)
def enabled(rtype: RecordType) -> RecordType:
    """The record type, if the caller works with it (leads may be switched off for their team)."""
    if rtype.name not in enabled_types(db.session, viewer()):
        raise ApiError(403, str(LEADS_OFF))
    return rtype


def visible(rtype: RecordType, record_id: int, *, trash_too: bool = True):
    """The record, if the caller may see it (the permission is part of the query)."""
    model = rtype.model
    stmt = select(model).where(model.id == record_id, visible_clause(model, viewer()))
    record = db.session.scalar(stmt if trash_too else stmt.where(model.deleted_at.is_(None)))
    if record is None:
        raise ApiError(404, _("There is no %(type)s #%(id)s (or you may not see it).", type=rtype.label.lower(),
                              id=record_id))
    return record


def list_page(rtype: RecordType, args: dict):
    flt = parse_filter(db.session, rtype, request.args, viewer())
    if flt.errors:
        raise ApiError(400, _("The filter is not valid."), [str(e) for e in flt.errors])
    stmt = filtered_select(rtype, flt, viewer()).order_by(rtype.model.id)
    page = CachedCountPagination(select=stmt, session=db.session(), page=args["page"], per_page=args["per_page"],
                                 max_per_page=None, error_out=False)
    following = None
    if page.has_next:
        query = request.args.to_dict(flat=False) | {"page": [str(args["page"] + 1)]}
        following = url_for(request.endpoint, _external=True, **query)
    return {"items": page.items, "count": page.total, "page": args["page"], "per_page": args["per_page"],
            "next": following}


def writable(rtype: RecordType) -> dict[str, Field]:
    return {f.name: f for f in api_fields(db.session, rtype)}


def parsed_values(rtype: RecordType, data: dict, *, clearing: bool) -> dict:
    """Column values for a request body (registry fields by name, custom fields in `custom`);
    with `clearing`, null or "" empties an optional field."""
    fields = writable(rtype)
    raw = {k: v for k, v in data.items() if k not in ("custom", "owner")}
    custom = data.get("custom") or {}
    by_key = {f.custom_key: f for f in fields.values() if f.is_custom}
    unknown = sorted(set(custom) - set(by_key))
    if unknown:
        raise ApiError(422, _("Unknown custom fields."), {"custom": unknown})
    raw |= {by_key[k].name: v for k, v in custom.items()}
    values = ValueParser(db.session, viewer()).values(fields, raw)
    if clearing:
        for name, value in raw.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                field = fields[name]
                if field.required:
                    raise ApiError(422, str(field.required), {name: [str(field.required)]})
                if field.is_custom:
                    values.setdefault("custom", {})[field.custom_key] = None
                else:
                    values[field.attr] = None if field.kind.value not in ("text", "email", "phone", "url",
                                                                          "tags") else ""
    return values


def owner_choice(data: dict, rtype: RecordType) -> str:
    """The owner choice of a create: the body's, else the integration's default, else the caller."""
    raw = data.get("owner")
    if isinstance(raw, bool) or (raw is not None and not isinstance(raw, (int, str))):
        raise ApiError(422, _("owner must be a user id or email, or pool:<id> or pool:<name>."))
    if raw is None or raw == "":
        client = caller().client
        default = (client.default_owners or {}).get(rtype.name) if client else None
        return default or f"user:{viewer().id}"
    return as_choice(str(raw))


def as_choice(text: str) -> str:
    """An owner as the API takes it (3, "ana@example.com", "pool:2", "pool:Inbound EU") as an owner
    choice of the owner service."""
    text = text.strip()
    return f"user:{text}" if "@" in text and ":" not in text else text


def create(rtype: RecordType, data: dict):
    enabled(rtype)
    missing = [f.name for f in writable(rtype).values()
               if f.required and f.is_custom and (data.get("custom") or {}).get(f.custom_key) in (None, "")]
    if missing:
        raise ApiError(422, _("Required custom fields are missing."), {"custom": missing})
    choice = owner_choice(data, rtype)
    owner = assign(db.session, choice, viewer(), rtype.name)
    check_owner_kept(owner.user, viewer())
    values = parsed_values(rtype, data, clearing=False) | {"owner_id": owner.user.id if owner.user else None}
    record = create_record(db.session, rtype, values, viewer(), owner_via=owner.via)
    if rtype.name == "lead" and data.get("owner") in (None, "") and choice == f"user:{viewer().id}":
        assignment.route_new(db.session, record, viewer())  # no owner named: the assignment rules decide
    return record


def patch(rtype: RecordType, record_id: int, data: dict):
    enabled(rtype)
    record = visible(rtype, record_id)
    require_changeable(viewer(), record)
    values = parsed_values(rtype, data, clearing=True)
    via = None
    if "owner" in data:
        choice = owner_choice(data, rtype) if data["owner"] not in (None, "") else ""
        if choice != f"user:{record.owner_id}":
            owner = assign(db.session, choice, viewer(), rtype.name)
            check_owner_kept(owner.user, viewer())
            values["owner_id"], via = (owner.user.id if owner.user else None), via_of(choice)
    update_record(db.session, record, values, viewer(), owner_via=via)
    return record


def delete(rtype: RecordType, record_id: int):
    enabled(rtype)
    record = visible(rtype, record_id)
    trash_record(db.session, record, viewer())
    return record


def restore(rtype: RecordType, record_id: int):
    enabled(rtype)
    record = visible(rtype, record_id)
    restore_one(db.session, rtype, record, viewer())
    return record


def _routes(rtype: RecordType) -> None:
    """The six routes of one record type, documented with its schemas."""
    read, create_schema, patch_schema = SCHEMAS[rtype.name]
    plural, label, tags = rtype.plural, rtype.label.lower(), [rtype.label + "s"]

    def list_view(args):
        return list_page(rtype, args)

    def get_view(record_id):
        return visible(rtype, record_id)

    def create_view(data):
        return create(rtype, data)

    def patch_view(data, record_id):
        return patch(rtype, record_id, data)

    def delete_view(record_id):
        return delete(rtype, record_id)

    def restore_view(record_id):
        return restore(rtype, record_id)

    list_view.__doc__ = f"List {plural} (the list page's filters; the caller's permissions apply)"
    get_view.__doc__ = f"One {label}"
    create_view.__doc__ = (f"Create a {label}; without `owner` an integration's default owner, else the caller. "
                           "Send `Idempotency-Key` to make a retry safe")
    patch_view.__doc__ = f"Change some fields of a {label} (null or \"\" clears an optional field)"
    delete_view.__doc__ = f"Move a {label} to the trash"
    restore_view.__doc__ = f"Bring a {label} back from the trash"

    one = f"/{plural}/<int:record_id>"
    routes = (
        (f"/{plural}", "GET", f"list_{plural}", list_view, (blp.arguments(FilterArgs, location="query"),
                                                            blp.response(200, PAGES[rtype.name])), False),
        (one, "GET", f"get_{rtype.name}", get_view, (blp.response(200, read),), False),
        (f"/{plural}", "POST", f"create_{rtype.name}", create_view, (blp.arguments(create_schema),
                                                                     blp.response(201, read)), True),
        (one, "PATCH", f"patch_{rtype.name}", patch_view, (blp.arguments(patch_schema),
                                                           blp.response(200, read)), True),
        (one, "DELETE", f"delete_{rtype.name}", delete_view, (blp.response(200, read),), True),
        (f"{one}/restore", "POST", f"restore_{rtype.name}", restore_view, (blp.response(200, read),), True),
    )
    for rule, method, endpoint, view, docs, write in routes:
        add_route(blp, rule, method, endpoint, view, docs, write=write, tags=tags)


for _rtype in RECORD_TYPES.values():
    _routes(_rtype)
