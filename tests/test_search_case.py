"""Text search ignores case for every alphabet, on SQLite as on PostgreSQL."""
import pytest
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Contact, CustomField, Lead
from crm.services.filters import filtered_select, parse_filter
from crm.services.record_types import CONTACT, LEAD


def found(rtype, viewer, **args) -> set[int]:
    flt = parse_filter(db.session, rtype, MultiDict(args), viewer)
    return set(db.session.scalars(filtered_select(rtype, flt, viewer, columns=(rtype.model.id,))))


@pytest.fixture
def muller(app):
    lead = db.session.get(Lead, 1)
    lead.person_name, lead.custom = "Jürgen Müller", {"region": "Östergötland"}
    db.session.add(CustomField(record_type="lead", key="region", label="Region", kind="text"))
    db.session.commit()
    return lead


@pytest.mark.parametrize("q", ["MÜLLER", "Müller", "mÜLLER"])
def test_search_ignores_the_case_of_non_ascii_letters(muller, admin, q):
    assert muller.id in found(LEAD, admin, q=q)
    assert found(LEAD, admin, q=q) == found(LEAD, admin, q="müller")


def test_every_word_of_a_search_must_match(muller, admin):
    assert found(LEAD, admin, q="JÜRGEN MÜLLER") == {muller.id}


@pytest.mark.parametrize("value", ["ÖSTERGÖTLAND", "östergötland", "GÖT"])
def test_a_text_custom_field_filter_ignores_case_too(muller, admin, value):
    assert found(LEAD, admin, cf_region=value) == {muller.id}


def test_search_still_treats_percent_and_underscore_literally(muller, admin):
    assert found(LEAD, admin, q="M_LLER") == set() and found(LEAD, admin, q="%") == set()


def test_search_works_on_every_record_type(app, admin):
    contact = db.session.get(Contact, db.session.scalar(db.select(Contact.id).limit(1)))
    contact.name = "Åsa Ödegaard"
    db.session.commit()
    assert contact.id in found(CONTACT, admin, q="ÅSA ÖDEGAARD")
