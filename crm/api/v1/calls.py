"""What every /api/v1 call goes through: the token, its scope, JSON errors, idempotency, one commit.

Views raise `ApiError` (or a `DomainError` from a service, which is a 422) and return plain
objects; `call` maps errors to `{"error": ..., "details": ...}`, replays the first response to
a POST with the same `Idempotency-Key`, commits once, and logs the call for the token's page.
"""
import functools
import hashlib
import time

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.extensions import db, limiter
from crm.i18n import _
from crm.models import ApiCall, IdempotencyKey, User
from crm.services import DomainError, PermissionDenied
from crm.services.api_tokens import Caller, caller_for_token

IDEMPOTENCY_KEY_LENGTH = 255


class ApiError(Exception):
    """A refusal with its HTTP status, a message for a person and, optionally, details per field."""

    def __init__(self, status: int, message: str, details=None):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def error_response(status: int, message: str, details=None) -> Response:
    response = jsonify({"error": str(message), "details": details})
    response.status_code = status
    return response


def authenticate() -> Response | None:
    """Before every API view: a live token in `Authorization: Bearer …`, or a 401."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    caller = caller_for_token(db.session, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    db.session.commit()  # the token's last use, and nothing else
    if caller is None:
        message = _("That API token is not valid (revoked or expired?).") if header else \
            _("Send an API token: Authorization: Bearer <token>.")
        return error_response(401, message)
    g.api_caller = caller
    return None


def caller() -> Caller:
    return g.api_caller


def viewer() -> User:
    return g.api_caller.user


def rate_limit_key() -> str:
    """Each token has its own budget (anonymous calls share their address's)."""
    header = request.headers.get("Authorization", "")
    return "api-token-" + hashlib.sha256(header.encode()).hexdigest()[:32] if header else request.remote_addr or ""


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def limited(blueprint) -> None:
    """Token check and the per-token rate limit on every view of an API blueprint."""
    limiter.limit(rate_limit, key_func=rate_limit_key)(blueprint)
    blueprint.before_request(authenticate)
    blueprint.after_request(_log_call)


def call(write: bool = False):
    """Wrap an API view: scope check, domain errors as JSON, idempotent POSTs, one commit."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if write and not caller().may_write:
                return error_response(403, _("This token may only read (scope: read)."))
            key = request.headers.get("Idempotency-Key", "").strip() if request.method == "POST" else ""
            if len(key) > IDEMPOTENCY_KEY_LENGTH:
                return error_response(400, _("Idempotency-Key is longer than 255 characters."))
            if key and (earlier := _replay(key)) is not None:
                return earlier
            try:
                result = view(*args, **kwargs)
            except (ApiError, DomainError) as error:
                db.session.rollback()
                return _refusal(error)
            response = current_app.make_response(result)
            if key and response.status_code < 500:
                return _remember(key, response)
            db.session.commit()
            return response
        return wrapper
    return decorate


def _refusal(error: Exception) -> Response:
    if isinstance(error, ApiError):
        return error_response(error.status, error.message, error.details)
    return error_response(403 if isinstance(error, PermissionDenied) else 422, str(error))


def _request_hash() -> str:
    return hashlib.sha256(request.method.encode() + request.path.encode() + request.get_data()).hexdigest()


def _replay(key: str) -> Response | None:
    """The first response to this key, or a 422 when the key came with another request."""
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == viewer().id,
                                                         IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_hash != _request_hash():
        return error_response(422, _("This Idempotency-Key was used with another request."))
    response = Response(row.body, status=row.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember(key: str, response: Response) -> Response:
    """Store the response with the change it reports, in one commit; a concurrent twin that
    committed first wins and its response is returned instead (nothing is created twice)."""
    db.session.add(IdempotencyKey(user_id=viewer().id, key=key, request_hash=_request_hash(),
                                  status=response.status_code, body=response.get_data(as_text=True)))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replay(key) or response
    return response


def _log_call(response: Response) -> Response:
    """Keep the call for the Integrations and token pages (recent calls and errors)."""
    api_caller = g.get("api_caller")
    if api_caller is None:
        return response
    error = ""
    if response.status_code >= 400 and response.is_json:
        error = str((response.get_json(silent=True) or {}).get("error", ""))[:255]
    try:
        db.session.add(ApiCall(token_id=api_caller.token.id, method=request.method, path=request.path[:255],
                               status=response.status_code, error=error))
        db.session.commit()
    except Exception:  # the log must never fail the call it logs
        db.session.rollback()
        current_app.logger.exception("Could not log an API call")
    return response


ERRORS = (400, 401, 403, 404, 409, 422, 429)


def refusals(blueprint, codes=ERRORS):
    """Document every refusal a view may answer with (the `Error` body) in the OpenAPI document."""
    from crm.api.v1.schemas import Error

    def decorate(view):
        for code in codes:
            view = blueprint.alt_response(code, schema=Error, description="Refused: see `error`")(view)
        return view
    return decorate


def add_route(blueprint, rule: str, method: str, endpoint: str, view, docs: tuple, *, write: bool,
              tags: list[str]) -> None:
    """Register a view made per record type: its schemas (`docs`, outermost first), the call
    wrapper and the documented refusals."""
    view.__name__ = endpoint
    for decorator in reversed(docs):
        view = decorator(view)
    view = refusals(blueprint)(call(write=write)(view))
    blueprint.route(rule, methods=[method], endpoint=endpoint, tags=tags)(view)


def retry_after() -> int:
    """Seconds until the current rate-limit window ends (for Retry-After)."""
    limit = limiter.current_limit
    return max(1, int(limit.reset_at - time.time()) + 1) if limit else 60
