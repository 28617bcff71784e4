"""Numbers, money, dates and relative times in each language (Babel), in Python and as filters."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import render_template_string
from flask_babel import force_locale, refresh

from crm.formatting import ago, date_, datetime_, money, number

NBSP, NNBSP = "\xa0", "\u202f"


@pytest.mark.parametrize("code, amount, whole, count", [
    ("en", "€1,234.50", "€12,000", "12,345"),
    ("es", f"1.234,50{NBSP}€", f"12.000{NBSP}€", "12.345"),
    ("it", f"1.234,50{NBSP}€", f"12.000{NBSP}€", "12.345"),
    ("fr", f"1{NNBSP}234,50{NBSP}€", f"12{NNBSP}000{NBSP}€", f"12{NNBSP}345"),
    ("sv", f"1{NBSP}234,50{NBSP}€", f"12{NBSP}000{NBSP}€", f"12{NBSP}345"),
    ("fa", f"\u200e€{NBSP}۱٬۲۳۴٫۵۰", f"\u200e€{NBSP}۱۲٬۰۰۰", "۱۲٬۳۴۵"),
])
def test_money_and_numbers_follow_the_language(app, code, amount, whole, count):
    with app.test_request_context(), force_locale(code):
        assert money(Decimal("1234.50"), "EUR") == amount
        assert money(Decimal("12000"), "EUR") == whole
        assert number(12345) == count
        assert render_template_string("{{ v|money('EUR') }} {{ n|number }}", v=Decimal("1234.5"),
                                      n=12345) == f"{amount} {count}"


@pytest.mark.parametrize("code, day, moment", [
    ("en", "Mar 5, 2026", "Mar 5, 2026, 2:07\u202fPM"),
    ("es", "5 mar 2026", "5 mar 2026, 14:07"),
    ("fr", "5 mars 2026", "5 mars 2026, 14:07"),
    ("sv", "5 mars 2026", "5 mars 2026 14:07"),
    ("fa", "۵ مارس ۲۰۲۶", "۵ مارس ۲۰۲۶،\u200f ۱۴:۰۷"),
])
def test_dates_follow_the_language(app, code, day, moment):
    with app.test_request_context(), force_locale(code):
        assert date_(date(2026, 3, 5)) == day
        assert datetime_(datetime(2026, 3, 5, 14, 7)) == moment
        assert render_template_string("{{ d|date }}|{{ t|datetime }}|{{ t|when }}", d=date(2026, 3, 5),
                                      t=datetime(2026, 3, 5, 14, 7)) == f"{day}|{moment}|{moment}"


def test_relative_times_say_ago_and_in_in_the_language(app):
    now = datetime(2026, 3, 5, 12, 0)
    with app.test_request_context():
        assert ago(now - timedelta(hours=3), now) == "3 hours ago"
        assert ago(now + timedelta(days=2), now) == "in 2 days"
        assert ago(now - timedelta(seconds=20), now) == "just now"
        assert ago(None) == ""
        with force_locale("es"):
            assert ago(now - timedelta(hours=3), now) == "hace 3 horas"
        with force_locale("fa"):
            assert ago(now - timedelta(hours=3), now) == "۳ ساعت پیش"


def test_the_browser_language_picks_the_format_for_a_visitor(app):
    with app.test_request_context(headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}):
        refresh()
        assert money(Decimal("1234.5"), "EUR") == f"1.234,50{NBSP}€"
        assert render_template_string("{{ page_language()|join(' ') }}") == "it ltr"
    with app.test_request_context(headers={"Accept-Language": "fa"}):
        refresh()  # the test app's context outlives one request; a real request starts afresh
        assert render_template_string("{{ page_language()[1] }}") == "rtl"
