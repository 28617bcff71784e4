"""Configuration from environment variables (see README): the one place that reads them.

Everything else (mail, the job queue, the limiter, logging) reads the app config, so a setting
passed to `create_app(Config, NAME=...)` wins over the environment.
"""
import os
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'crm.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024))
    PER_PAGE = 50
    WTF_CSRF_TIME_LIMIT = None
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")  # "log" appends to MAIL_OUTBOX, "smtp" sends
    MAIL_OUTBOX = os.environ.get("MAIL_OUTBOX", str(INSTANCE / "outbox.log"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "crm@localhost")
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 587))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    RATELIMIT_ENABLED = True
    HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "") == "1"
    REDIS_URL = os.environ.get("REDIS_URL", "")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "")  # "json": JSON lines on stderr, one per request (make serve)
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "en")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "UTC")


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    RATELIMIT_ENABLED = False
    HUEY_IMMEDIATE = True
    LOG_FORMAT = ""
