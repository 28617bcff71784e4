"""Configuration from environment variables (see README)."""
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
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "log")  # "log" writes mails to the app log
    RATELIMIT_ENABLED = True
    HUEY_IMMEDIATE = os.environ.get("HUEY_IMMEDIATE", "") == "1"
    REDIS_URL = os.environ.get("REDIS_URL", "")
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "en")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "UTC")


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test"
    RATELIMIT_ENABLED = False
    HUEY_IMMEDIATE = True
