"""Logs as JSON lines (LOG_FORMAT=json, as `make serve` sets): one line per request with its
duration and user id, and the app's own log records in the same shape, on stderr.

Every response carries an X-Request-ID (the load balancer's, or a new one) that its log line repeats.
"""
import json
import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, request

LOGGER = "crm.request"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, any `extra` fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
                **getattr(record, "fields", {})}
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def init_app(app: Flask) -> None:
    if app.config.get("LOG_FORMAT") != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for logger in (logging.getLogger("crm"), app.logger):
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request(_start)
    app.after_request(_log)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = (request.headers.get("X-Request-ID") or "")[:64] or uuid.uuid4().hex


def _log(response: Response) -> Response:
    started = g.get("request_started")
    user = g.get("_login_user")  # Flask-Login's cache: read it, never load a user just to log
    fields = {"event": "request", "method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
              "user_id": user.id if user is not None and user.is_authenticated else None,
              "bytes": response.content_length, "ip": request.remote_addr, "pid": os.getpid(),
              "request_id": g.get("request_id")}
    response.headers["X-Request-ID"] = fields["request_id"] or ""
    logging.getLogger(LOGGER).info("%s %s %s", request.method, request.path, response.status_code,
                                   extra={"fields": fields})
    return response
