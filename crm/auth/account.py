"""The user's own settings: the language the app speaks to them (pages, messages, emails)."""
from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for
from flask_babel import refresh
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from crm.auth.routes import bp, safe_next
from crm.extensions import db
from crm.form_choices import select_choices
from crm.i18n import LANGUAGE_NAMES, LANGUAGES, _, _l
from crm.rendering import render


class LanguageForm(FlaskForm):
    """Also the user menu's switcher: POST language (a code, or "" for the browser's) and next."""
    language = SelectField(_l("Language"), choices=select_choices(
        ((code, LANGUAGE_NAMES[code]) for code in LANGUAGES), blank=_l("The browser's language")))
    next = HiddenField()


@bp.get("/account")
@login_required
def account():
    """The user's settings page."""
    form = LanguageForm(language=current_user.locale or "", next=url_for("auth.account"))
    return render("auth/account.html", "settings", form=form)


@bp.post("/account/language")
@login_required
def choose_language():
    """Save the user's language and go back to the page they were on, now in that language."""
    form = LanguageForm()
    if not form.validate_on_submit():
        form.next.data = url_for("auth.account")
        return render("auth/account.html", "settings", form=form, status=400)
    current_user.locale = form.language.data or None
    db.session.commit()
    refresh()  # the message below in the new language
    flash(_("The app now speaks %(language)s to you.", language=LANGUAGE_NAMES[current_user.locale])
          if current_user.locale else _("The app now follows your browser's language."))
    return redirect(_back(form.next.data), code=303)


def _back(next_path: str | None) -> str:
    """The page the switcher was used on: `next`, else the referring page of this site."""
    if not next_path and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host:
            next_path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(next_path)
