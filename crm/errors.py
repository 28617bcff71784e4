"""Friendly error pages (and fragments for htmx requests) for every 4xx/5xx."""
from flask import Flask
from werkzeug.exceptions import HTTPException, InternalServerError

from crm.extensions import db
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
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _page(error.code or 500, error.description if error.code == 403 and error.description
                     and "permission" not in error.description.lower() else None)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error", exc_info=error)
        db.session.rollback()
        return _page(InternalServerError.code)


def _page(code: int, detail: str | None = None):
    return render("errors/error.html", "error", status=code, code=code,
                  message=detail or MESSAGES.get(code, "Something went wrong."))
