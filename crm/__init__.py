"""Field-sales CRM: an app factory with one blueprint per feature."""
import os
from pathlib import Path

from flask import Flask

from crm.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: type = Config, **overrides) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    app.config.from_object(config)
    app.config.update(overrides)
    from crm.converters import IdConverter
    app.url_map.converters["int"] = IdConverter  # before any route is added
    from crm import request_log
    request_log.init_app(app)  # first, so its clock starts before any other hook runs
    _init_extensions(app)
    _register_blueprints(app)
    from crm.errors import register_error_pages
    from crm.cli import register_commands
    from crm.headers import register_security_headers
    from crm.templating import register_template_helpers
    register_error_pages(app)
    register_security_headers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def _init_extensions(app: Flask) -> None:
    from crm.extensions import csrf, db, htmx, limiter, login_manager, migrate
    from crm.auth.sessions import configure_sessions
    from crm.database import configure_sqlite
    from crm.ratelimit import key_prefix, storage_uri
    from crm import i18n
    from crm import tasks
    from crm import models

    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    i18n.init_app(app)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = storage_uri(
            app.config["REDIS_URL"], app.instance_path, app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", key_prefix(app.config["SQLALCHEMY_DATABASE_URI"]))
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    configure_sessions(app)

    with app.app_context():
        configure_sqlite(db.engine)
    tasks.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from crm import activity, admin, api, assets, auth, bulk, capture, contacts, deals, jobs, leads, lists
    from crm import map as map_, merge, organizations, pipeline, today

    for module in (assets, auth, leads, deals, contacts, organizations, activity, lists, admin,
                   pipeline, map_, bulk, merge, capture, api, jobs, today):
        app.register_blueprint(module.bp)
    from crm import health, imports, pools, tokens, webhooks
    app.register_blueprint(tokens.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(pools.bp)
    app.register_blueprint(imports.bp)
    from crm.api import v1
    v1.init_app(app)
