"""Login sessions: what a session cookie and a remember-me cookie carry, and when they stop working.

Both cookies carry a login token, "<user id>.<session version>.<issued at>.<keep>.<nonce>", signed
(the session cookie by Flask, the remember-me cookie by Flask-Login). A new token is made at every
login, so remember-me cookies rotate. On each request the token is checked against the user row:

* the user's `session_version` changes on logout, a password change and deactivation, which ends
  every session of that user on every device at once (crm/services/sessions.py);
* a login ends `SESSION_LIFETIME` after it began, whatever happens (remember-me included);
* a login without "Keep me logged in" ends after `SESSION_IDLE_TIMEOUT` without a request.
"""
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, session
from flask_login import login_user, logout_user

from crm.extensions import db, login_manager
from crm.models import User
from crm.params import to_int

SEEN = "_seen"  # when this browser session last made a request (epoch seconds)
SEEN_RESOLUTION = 60  # rewrite the session cookie at most once a minute for the idle clock


@dataclass(frozen=True)
class LoginToken:
    user_id: int
    version: int
    issued: int
    keep: bool
    nonce: str

    def __str__(self) -> str:
        return f"{self.user_id}.{self.version}.{self.issued}.{int(self.keep)}.{self.nonce}"

    @classmethod
    def parse(cls, raw: str) -> "LoginToken | None":
        """The token, or None for anything that is not one (old cookies, tampering)."""
        parts = raw.split(".") if isinstance(raw, str) and len(raw) < 200 else []
        numbers = [to_int(p, high=10**18) for p in parts[:4]]
        if len(parts) != 5 or None in numbers:
            return None
        return cls(numbers[0], numbers[1], numbers[2], numbers[3] == 1, parts[4])


def new_token(user: User, keep: bool) -> LoginToken:
    """A fresh token for a login (and so a fresh remember-me cookie)."""
    return LoginToken(user.id, user.session_version, int(time.time()), keep, secrets.token_urlsafe(12))


def start_login(user: User, keep: bool) -> None:
    """Log `user` in with a new token (a new remember-me cookie when `keep`)."""
    user.login_token = str(new_token(user, keep))
    login_user(user, remember=keep)
    session[SEEN] = int(time.time())


def keep_logged_in(user: User) -> None:
    """After the user's sessions were ended on purpose (their own password change), go on in this one."""
    token = LoginToken.parse(session.get("_user_id", ""))
    start_login(user, keep=bool(token and token.keep))


def configure_sessions(app: Flask) -> None:
    """Cookie flags, remember-me lifetime, the user loader and the idle clock."""
    secure, prefix = app.config["COOKIE_SECURE"], app.config["COOKIE_HOST_PREFIX"]
    host = "__Host-" if prefix and secure else ""
    lifetime = timedelta(seconds=app.config["SESSION_LIFETIME"])
    app.config.update(
        SESSION_COOKIE_NAME=f"{host}session", SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_PATH="/",
        REMEMBER_COOKIE_NAME=f"{host}remember_token", REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_PATH="/",
        REMEMBER_COOKIE_DURATION=lifetime)
    login_manager.user_loader(load_user)
    app.before_request(_idle_clock)


def load_user(raw: str) -> User | None:
    """The user a session's token names, when that token still holds (else the visitor is anonymous)."""
    token = LoginToken.parse(raw)
    if token is None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.active or user.session_version != token.version:
        return None
    if time.time() - token.issued > current_app.config["SESSION_LIFETIME"]:
        return None
    user.login_token = str(token)
    return user


def _idle_clock() -> None:
    """End a login that has not kept itself logged in once it has been idle too long."""
    raw = session.get("_user_id")
    if raw is None:
        return
    token = LoginToken.parse(raw)
    now = int(time.time())
    seen = session.get(SEEN, now)
    if token is not None and not token.keep and now - seen > current_app.config["SESSION_IDLE_TIMEOUT"]:
        session.clear()
        logout_user()
        return
    if now - seen >= SEEN_RESOLUTION or SEEN not in session:
        session[SEEN] = now
