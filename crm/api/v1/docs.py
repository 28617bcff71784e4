"""The served OpenAPI document (custom fields filled in from the database) and the docs page."""
from flask import Blueprint, current_app, render_template, url_for

from crm.extensions import db
from crm.services.fields import CUSTOM_KINDS, Kind, custom_fields
from crm.services.record_types import RECORD_TYPES

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")
JSON_TYPES = {Kind.NUMBER: "number", Kind.BOOLEAN: "boolean", Kind.DATE: "string"}


def document(spec: dict) -> dict:
    """The generated document with each record type's custom fields as properties of `custom`."""
    schemas = spec.get("components", {}).get("schemas", {})
    for rtype in RECORD_TYPES.values():
        properties = {}
        for cf in custom_fields(db.session, rtype.name):
            kind = CUSTOM_KINDS.get(cf.kind, Kind.TEXT)
            prop: dict = {"type": [JSON_TYPES.get(kind, "string"), "null"], "description": cf.label}
            if kind == Kind.DATE:
                prop["format"] = "date"
            if kind == Kind.CHOICE and cf.choices:
                prop["enum"] = [*cf.choices, None]
            properties[cf.key] = prop
        for schema in schemas.values():
            for prop in schema.get("properties", {}).values():
                if prop.get("x-custom-fields") == rtype.label:
                    prop["properties"] = properties
    return spec


@bp.get("/docs")
def api_docs():
    """Interactive documentation (Swagger UI, from static/node_modules) of /api/v1/openapi.json."""
    return render_template("api/docs.html", document_url=url_for("api-docs.openapi_json"))


def json_response(spec: dict):
    return current_app.json.response(document(spec))
