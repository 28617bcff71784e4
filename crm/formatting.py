"""Numbers, money, dates and relative times as the reader's language writes them (Babel/CLDR).

Templates use these as filters (`|number`, `|money(currency)`, `|date`, `|datetime`, `|ago`,
`|when`); Python code that builds sentences (messages, feed entries, emails) calls the same
functions. They format for the current locale (Flask-Babel's choice for the request, or the one
set with `flask_babel.force_locale`, e.g. a recipient's language), else the app default.

Persian is written with Persian digits (۱۲٬۳۴۵): Babel gives the Persian separators but Latin
digits, so the digits are mapped here. These are for display only, never for form values.
"""
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from babel.numbers import format_currency, format_decimal
from flask import current_app, has_app_context
from flask_babel import get_locale

from crm.i18n import _

Number = int | float | Decimal
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# CLDR puts a space between a letter currency code and the digits ("NOK 99.99"); Babel does not.
_CODE_THEN_DIGIT = re.compile(r"(?<=[A-Za-z])(?=[\d\u06f0-\u06f9])")
_DIGIT_THEN_CODE = re.compile(r"(?<=[\d\u06f0-\u06f9])(?=[A-Za-z])")


def current_locale() -> Locale:
    """The locale text is formatted in now."""
    chosen = get_locale() if has_app_context() else None
    if chosen is not None:
        return chosen
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "en") if has_app_context() else "en"
    return Locale.parse(default)


def _digits(text: str, locale: Locale) -> str:
    return text.translate(PERSIAN_DIGITS) if locale.language == "fa" else text


def number(value: Number | None) -> str:
    """12,345 / 12.345 / 12 345 / ۱۲٬۳۴۵ (decimals as given)."""
    if value is None:
        return ""
    locale = current_locale()
    return _digits(format_decimal(value, locale=locale, numbering_system="default",
                                  decimal_quantization=False), locale)


def money(value: Number | None, currency: str = "EUR") -> str:
    """€1,234.50 / 1.234,50 € / 1 234,50 € / ‎€ ۱٬۲۳۴٫۵۰; cents only when there are some."""
    if value is None:
        return ""
    locale = current_locale()
    currency = (currency or "EUR").upper()
    pattern = locale.currency_formats["standard"].pattern
    if Decimal(str(value)) % 1 == 0:
        pattern = re.sub(r"\.0+", "", pattern)
    text = format_currency(value, currency, format=pattern, locale=locale, currency_digits=False,
                           numbering_system="default")
    text = _DIGIT_THEN_CODE.sub("\xa0", _CODE_THEN_DIGIT.sub("\xa0", text))
    return _digits(text, locale)


def date_(value: date | datetime | None, fmt: str = "medium") -> str:
    """5 Mar 2026 as the language writes it ('medium'; 'short', 'long' and 'full' too)."""
    if value is None:
        return ""
    locale = current_locale()
    return _digits(format_date(value, fmt, locale=locale), locale)


def datetime_(value: datetime | date | None) -> str:
    """A date with the time of day (minutes): 'Mar 5, 2026, 2:07 PM' / '5 mar 2026, 14:07'."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return date_(value)
    locale = current_locale()
    pattern = get_datetime_format("medium", locale=locale).replace("'", "")
    text = pattern.replace("{0}", format_time(value, "short", locale=locale)) \
                  .replace("{1}", format_date(value, "medium", locale=locale))
    return _digits(text, locale)


def when(value: datetime | date | None) -> str:
    """A date, or a date and time: whichever the value is."""
    return datetime_(value) if isinstance(value, datetime) else date_(value)


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago' / 'in 2 days' / 'just now' (naive datetimes are UTC, as stored)."""
    if value is None:
        return ""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    delta: timedelta = value - now
    if abs(delta) < timedelta(minutes=1):
        return _("just now")
    locale = current_locale()
    return _digits(format_timedelta(delta, granularity="minute", add_direction=True, locale=locale),
                   locale)
