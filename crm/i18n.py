"""Translations: the one place the app's gettext functions and its languages come from.

Python code marks user-visible text with `_` (translated now), `_l` (translated when shown: module
constants, form labels, error messages raised from services) and `ngettext` (plurals). Templates
get `_`, `gettext` and `ngettext` from Flask-Babel's Jinja extension.
"""
from flask import has_request_context, request
from flask_babel import Babel, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user

LANGUAGES = ("en", "es", "it", "fa", "sv", "fr")
RIGHT_TO_LEFT = frozenset({"fa"})

babel = Babel()

__all__ = ["LANGUAGES", "RIGHT_TO_LEFT", "babel", "select_locale", "_", "_l", "ngettext"]


def select_locale() -> str | None:
    """The signed-in user's language, else the browser's best match, else DEFAULT_LOCALE (also for
    work outside a request: background jobs, commands)."""
    if not has_request_context():
        return None
    chosen = getattr(current_user, "locale", None)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES)
