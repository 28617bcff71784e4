"""Jinja helpers: URL building that keeps the filter, the locale's number and date formats."""
from urllib.parse import urlencode

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from crm import formatting
from crm.extensions import db
from crm.i18n import LANGUAGE_NAMES, LANGUAGES, RIGHT_TO_LEFT, _l
from crm.services.permissions import may_mass_change
from crm.services.settings import leads_enabled

NAV = [("today.index", _l("My day")), ("leads.index", _l("Leads")), ("deals.index", _l("Deals")), ("pipeline.board", _l("Pipeline")),
       ("map.index", _l("Map")), ("contacts.index", _l("Contacts")),
       ("organizations.index", _l("Organizations")), ("activity.feed", _l("Activity")),
       ("bulk.trash", _l("Trash")), ("imports.index", _l("Import")), ("tokens.index", _l("API tokens")),
       ("admin.index", _l("Admin"))]


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        number=formatting.number, money=formatting.money, date=formatting.date_,
        datetime=formatting.datetime_, when=formatting.when, ago=formatting.ago)
    app.jinja_env.globals["query_with"] = query_with
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["view_endpoints"] = app.view_functions
    app.jinja_env.globals["page_language"] = page_language
    app.jinja_env.globals["language_choices"] = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]

    @app.get("/")
    @login_required
    def home():
        """Start on the user's home page."""
        return redirect(home_url())


def home_url() -> str:
    """The current user's home page: the leads inbox, or deals where leads are switched off."""
    return url_for("leads.index" if leads_enabled(db.session, current_user) else "deals.index")


def page_language() -> tuple[str, str]:
    """The page's `lang` and `dir` attributes: the request's language, right to left for Persian."""
    locale = get_locale()
    language = locale.language if locale else "en"
    return str(locale or "en").replace("_", "-"), "rtl" if language in RIGHT_TO_LEFT else "ltr"


def nav_items() -> list[tuple[str, object]]:
    """Menu entries for features that exist and that the user may use."""
    hidden = set()
    if not leads_enabled(db.session, current_user):
        hidden.add("leads.index")
    if not current_user.is_admin:
        hidden.add("admin.index")
    if not may_mass_change(current_user):  # the rule the import pages enforce
        hidden.add("imports.index")
    return [(e, label) for e, label in NAV if e in current_app.view_functions and e not in hidden]


def query_with(**changes) -> str:
    """The current query string with some arguments replaced (None removes one)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
    for key, value in changes.items():
        if value is not None and value != "":
            args.append((key, value))
    return "?" + urlencode(args) if args else "?"
