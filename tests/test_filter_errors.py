"""Filter values that can match nothing say why (flt.errors) instead of silently showing 0 results."""
import pytest
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import CustomField, Lead
from crm.services.filters import filtered_select, parse_filter
from crm.services.record_types import LEAD


@pytest.fixture
def custom_fields(app):
    db.session.add_all([CustomField(record_type="lead", key="signed", label="Signed on", kind="date"),
                        CustomField(record_type="lead", key="fleet", label="Fleet", kind="number")])
    db.session.get(Lead, 1).custom = {"signed": "2026-04-01", "fleet": 12}
    db.session.commit()


def parsed(viewer, **args):
    flt = parse_filter(db.session, LEAD, MultiDict(args), viewer)
    found = set(db.session.scalars(filtered_select(LEAD, flt, viewer, columns=(Lead.id,))))
    return flt, found


@pytest.mark.parametrize("args, message", [
    ({"cf_signed": "notadate"}, "Signed on 'notadate' is not a date (use YYYY-MM-DD)."),
    ({"cf_fleet": "many"}, "Fleet must be a number, not 'many'."),
    ({"cf_fleet": "nan"}, "Fleet must be a number, not 'nan'."),
    ({"created_from": "2026-05-01", "created_to": "2026-04-01"},
     "Created from 2026-05-01 is after created to 2026-04-01."),
])
def test_a_filter_value_that_cannot_match_says_why(custom_fields, admin, args, message):
    flt, found = parsed(admin, **args)
    assert flt.errors == [message] and found == set()


def test_a_custom_date_filter_finds_the_date(custom_fields, admin):
    assert parsed(admin, cf_signed="2026-04-01")[1] == {1}
    flt, found = parsed(admin, cf_signed="20260401")
    assert found == {1} and flt.custom == {"signed": "2026-04-01"}


def test_the_same_day_as_from_and_to_is_a_valid_range(app, admin):
    assert not parsed(admin, created_from="2026-04-01", created_to="2026-04-01")[0].errors


def test_the_list_page_shows_why_nothing_matches(custom_fields, client, auth):
    auth.login()
    page = client.get("/leads/?cf_signed=notadate").get_data(as_text=True)
    assert "Signed on &#39;notadate&#39; is not a date (use YYYY-MM-DD)." in page
    page = client.get("/leads/?created_from=2026-05-01&created_to=2026-04-01").get_data(as_text=True)
    assert "Created from 2026-05-01 is after created to 2026-04-01." in page
