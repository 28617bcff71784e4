"""Configuration from environment variables (see README): the one place that reads them.

Everything else (mail, the job queue, the limiter, logging) reads the app config, so a setting
passed to `create_app(Config, NAME=...)` wins over the environment.
"""
import os
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def _flag(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'crm.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # empty: the offline map (Natural Earth + GeoNames)
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")  # credit line the tile provider asks for
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024))
    PER_PAGE = 50
    BULK_INLINE_LIMIT = int(os.environ.get("BULK_INLINE_LIMIT", 50_000))  # larger mass changes run as a job
    WTF_CSRF_TIME_LIMIT = None
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")  # "log" appends to MAIL_OUTBOX, "smtp" sends
    MAIL_OUTBOX = os.environ.get("MAIL_OUTBOX", str(INSTANCE / "outbox.log"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "crm@localhost")
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 587))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True  # Retry-After on a 429
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "")  # empty: REDIS_URL, else instance/
    # Failed logins only; a fixed one-minute window, so the longest wait is a minute (README "Security").
    LOGIN_RATE_LIMIT_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT", "10 per minute")
    LOGIN_RATE_LIMIT_ADDRESS = os.environ.get("LOGIN_RATE_LIMIT_ADDRESS", "30 per minute")
    # REST API v1 (crm/api/v1): requests per token, in fixed windows (429 with Retry-After beyond)
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    API_TITLE = "Fieldbook CRM API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "") == "1"
    REDIS_URL = os.environ.get("REDIS_URL", "")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "")  # "json": JSON lines on stderr, one per request (make serve)
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "en")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "UTC")
    # Sessions and cookies (crm/auth/sessions.py, README "Security")
    COOKIE_SECURE = _flag("COOKIE_SECURE")  # HTTPS only: set it in production
    COOKIE_HOST_PREFIX = _flag("COOKIE_HOST_PREFIX", "1")  # __Host- cookie names whenever COOKIE_SECURE is on
    SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_MINUTES", 120)) * 60
    SESSION_LIFETIME = int(os.environ.get("SESSION_LIFETIME_HOURS", 24 * 14)) * 3600
    # Background jobs: a running job's worker beats this often; silent this long, it has died
    JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", 5))
    JOB_STALE_SECONDS = float(os.environ.get("JOB_STALE_SECONDS", 60))


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"  # tests that switch limits on choose their own store
    HUEY_IMMEDIATE = True
    LOG_FORMAT = ""
