"""Translations: the one place the app's gettext functions and its languages come from.

Python code marks user-visible text with `_` (translated now), `_l` (translated when shown: module
constants, form labels, error messages raised from services) and `ngettext` (plurals). Templates
get `_`, `gettext` and `ngettext` from Flask-Babel's Jinja extension.
"""
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale as in_language, get_translations, gettext as _, lazy_gettext as _l, refresh
from flask_login import current_user

LANGUAGES = ("en", "es", "it", "fa", "sv", "fr")
RIGHT_TO_LEFT = frozenset({"fa"})
# Each language by its own name, as a switcher shows it to someone who does not read the current one.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "it": "Italiano", "fa": "فارسی", "sv": "Svenska",
                  "fr": "Français"}

babel = Babel()

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "RIGHT_TO_LEFT", "babel", "in_language", "init_app", "select_locale",
           "_", "_l", "ngettext"]


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogs in crm/translations/<lang>/LC_MESSAGES (crm/catalogs.py)."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks: whitespace collapsed
    # Flask-Babel keeps the locale on `g`, which outlives one request when an app context was
    # pushed before it (the test client, commands): each request chooses afresh.
    app.before_request(refresh)


def select_locale() -> str | None:
    """The signed-in user's language, else the browser's best match, else DEFAULT_LOCALE (also for
    work outside a request: background jobs, commands)."""
    if not has_request_context():
        return None
    chosen = getattr(current_user, "locale", None)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES)


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    """The form of the message for `n` in the current language; `%(num)s` is `n` written for the
    language (12,345 / 12.345 / ۱۲٬۳۴۵) unless `num` is given."""
    from crm.formatting import number  # formatting uses this module
    variables.setdefault("num", number(n))
    return get_translations().ungettext(singular, plural, n) % variables
