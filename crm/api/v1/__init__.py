"""REST API v1: flask-smorest blueprints over the app's services, described at /api/v1/openapi.json.

Tokens (Settings → API tokens, or `flask api-token`) authenticate every call; the document and
the docs page (/api/v1/docs) are public.
"""
from flask import Flask
from flask_smorest import Api

from crm.api.v1.schemas import SCHEMAS, Error
from crm.extensions import csrf
from crm.services import webhooks


class CrmApi(Api):
    """flask-smorest's Api without its app-wide HTTP error handler: the app's own (crm/errors.py)
    answers JSON `{"error", "details"}` under /api/ and an HTML page elsewhere."""

    ERROR_SCHEMA = Error

    def _register_error_handlers(self) -> None:
        pass

    def _openapi_json(self):
        """The document, with the custom fields admins added since the app started."""
        from crm.api.v1.docs import json_response
        return json_response(self.spec.to_dict())


def init_app(app: Flask) -> CrmApi:
    from crm.api.v1 import bulk, docs, engagement, records

    api = CrmApi(app, spec_kwargs={"components": {"securitySchemes": {
        "token": {"type": "http", "scheme": "bearer", "description": "Settings → API tokens"}}},
        "security": [{"token": []}]})
    for blueprint in (records.blp, engagement.blp, bulk.blp):
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    webhooks.record_json = lambda kind, record: SCHEMAS[kind][0]().dump(record)  # a webhook's record is the API's
    return api
