"""The one filter builder: URL arguments -> SQL, with permissions, and bad values that match nothing."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import CustomField, Deal, Lead, Stage
from crm.models.mixins import utcnow
from crm.services.filters import filtered_select, parse_filter
from crm.services.record_types import DEAL, LEAD


def ids(rtype, viewer, **args) -> set[int]:
    flt = parse_filter(db.session, rtype, MultiDict(args), viewer)
    return set(db.session.scalars(filtered_select(rtype, flt, viewer, columns=(rtype.model.id,))))


def all_ids(model, *where) -> set[int]:
    return set(db.session.scalars(select(model.id).where(model.deleted_at.is_(None), *where)))


def test_owner_filter_matches_exactly_that_owners_records(app, admin, rep):
    assert ids(LEAD, admin, owner=str(rep.id)) == all_ids(Lead, Lead.owner_id == rep.id)


def test_owner_me_means_the_viewer(app, rep):
    assert ids(LEAD, rep, owner="me") == all_ids(Lead, Lead.owner_id == rep.id)


def test_text_search_looks_at_name_email_company_and_phone(app, admin):
    lead = db.session.get(Lead, 1)
    lead.company_name, lead.phone = "Zebracorp Unique", "+46 70 999 00 11"
    db.session.commit()
    assert ids(LEAD, admin, q="zebracorp") == {1}
    assert ids(LEAD, admin, q="999 00 11") == {1}


@pytest.mark.parametrize("text", ["100%", "a_b", "O'Brien", "\\", '" OR 1=1 --'])
def test_text_with_sql_wildcards_or_quotes_matches_literally(app, admin, text):
    lead = db.session.get(Lead, 2)
    lead.person_name = f"Person {text} Here"
    db.session.commit()
    assert ids(LEAD, admin, q=text) == {2}


def test_created_range_includes_both_days(app, admin):
    today = utcnow().date()
    lead = db.session.get(Lead, 3)
    lead.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    day = lead.created_at.date().isoformat()
    assert ids(LEAD, admin, created_from=day, created_to=day) == {3}
    assert 3 not in ids(LEAD, admin, created_from=(today - timedelta(days=30)).isoformat())


@pytest.mark.parametrize("args, message", [
    ({"owner": "bob"}, "Unknown owner"),
    ({"owner": "9999"}, "There is no owner #9999"),
    ({"created_from": "31/12/2026"}, "is not a date"),
    ({"status": "x"}, "Unknown status"),
    ({"ids": "1,two"}, "not numbers"),
    ({"cf_nope": "1"}, "no custom field"),
    ({"located": "maybe"}, "Unknown location filter"),
])
def test_an_invalid_filter_matches_nothing_and_says_why(app, admin, args, message):
    flt = parse_filter(db.session, LEAD, MultiDict(args), admin)
    assert any(message in e for e in flt.errors)
    assert ids(LEAD, admin, **args) == set()


def test_reps_see_their_own_and_their_teams_records(app, rep):
    assert ids(LEAD, rep) == all_ids(Lead, Lead.team_id == rep.team_id)


def test_reps_may_edit_only_their_own(app, rep):
    flt = parse_filter(db.session, LEAD, MultiDict(), rep)
    editable = set(db.session.scalars(filtered_select(LEAD, flt, rep, for_edit=True, columns=(Lead.id,))))
    assert editable == all_ids(Lead, Lead.owner_id == rep.id)


def test_managers_see_only_their_team(app, manager):
    assert ids(LEAD, manager) == all_ids(Lead, Lead.team_id == manager.team_id)


def test_trashed_records_only_show_in_the_trash(app, admin):
    db.session.get(Lead, 5).deleted_at = utcnow()
    db.session.commit()
    assert 5 not in ids(LEAD, admin)
    assert ids(LEAD, admin, trash="1") == {5}


def test_a_selection_larger_than_sqlites_parameter_limit_works(app, admin):
    selection = ",".join(map(str, range(1, 40_001)))
    assert ids(LEAD, admin, ids=selection) == all_ids(Lead)


def test_deal_status_filter_uses_won_and_lost_stages(app, admin):
    won = all_ids(Deal, Deal.stage_id.in_(select(Stage.id).where(Stage.is_won)))
    assert ids(DEAL, admin, status="won") == won


def test_custom_fields_filter_by_kind(app, admin):
    db.session.add_all([CustomField(record_type="lead", key="fleet", label="Fleet", kind="number"),
                        CustomField(record_type="lead", key="vip", label="VIP", kind="checkbox")])
    db.session.get(Lead, 1).custom = {"fleet": 12, "vip": True}
    db.session.get(Lead, 2).custom = {"fleet": 120}
    db.session.commit()
    assert ids(LEAD, admin, cf_fleet="12") == {1}
    assert ids(LEAD, admin, cf_vip="yes") == {1}
    assert 1 not in ids(LEAD, admin, cf_vip="no")
    assert ids(LEAD, admin, cf_fleet="twelve") == set()


def test_to_args_round_trips_through_the_parser(app, admin, rep):
    args = MultiDict([("owner", str(rep.id)), ("owner", "none"), ("q", "atlas fleet"), ("source", "Website"),
                      ("created_from", "2026-01-01"), ("ids", "3,1,2")])
    flt = parse_filter(db.session, LEAD, args, admin)
    again = parse_filter(db.session, LEAD, MultiDict(flt.to_args()), admin)
    assert again == flt and not flt.errors
