"""Friendly error pages (and fragments for htmx requests) for every 4xx/5xx."""
from flask import Flask, abort, request
from werkzeug.exceptions import HTTPException, InternalServerError

from crm.api.v1.calls import error_response, retry_after
from crm.extensions import db
from crm.i18n import _
from crm.params import has_nul
from crm.rendering import render

MESSAGES = {
    400: "The request was not understood. Check the form and try again.",
    403: "You do not have permission to do that.",
    404: "That page or record does not exist (or was purged).",
    405: "That action is not allowed here.",
    413: "That upload or request is too large.",
    429: "Too many requests. Wait a minute and try again.",
    500: "Something went wrong on our side. Nothing was changed.",
}


def register_error_pages(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """No NUL character reaches a query or a stored text (PostgreSQL text cannot hold one)."""
        values = [text for args in (request.args, request.form) for pair in args.items(multi=True) for text in pair]
        if has_nul(values) or (request.is_json and has_nul(_strings(request.get_json(silent=True)))):
            abort(400, _("The request contains a NUL character; remove it and try again. Nothing was changed."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if _is_api():
            return _api_error(error)
        return _page(error.code or 500, _own_description(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error", exc_info=error)
        db.session.rollback()
        if _is_api():
            return error_response(500, MESSAGES[500])
        return _page(InternalServerError.code)


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _api_error(error: HTTPException):
    """JSON for the API: `{"error": ..., "details": ...}`; a body that failed its schema (422)
    gives the messages per field as details."""
    if error.response is not None:  # a view's own response (the first API's abort(response))
        return error.response
    messages = (getattr(error, "data", None) or {}).get("messages")
    details = (messages.get("json") or messages.get("query") or messages) if isinstance(messages, dict) else None
    code = error.code or 500
    message = _own_description(error) or MESSAGES.get(code, error.name)
    if code == 422 and details:
        message = _("The request body or arguments do not match the API description.")
    response = error_response(code, message, details)
    if code == 429:
        response.headers["Retry-After"] = str(retry_after())
    return response


def _own_description(error: HTTPException) -> str | None:
    """The message a view gave with abort(), not Werkzeug's generic text for the status."""
    text = error.description
    if not text or text == type(error).description or (error.code == 403 and "permission" in text.lower()):
        return None
    return text


def _strings(value) -> list[str]:
    """Every string in a JSON document (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _page(code: int, detail: str | None = None):
    return render("errors/error.html", "error", status=code, code=code,
                  message=detail or MESSAGES.get(code, "Something went wrong."))
