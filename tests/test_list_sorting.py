"""The leads list shows Source, Owner and Status, and sorts by each as a user reads them."""
import re

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, LeadStatus, User
from crm.services.record_types import DEAL, LEAD
from crm.services.sorting import sorted_select


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="lead-(\d+)"', html)]


def _sorted_ids(sort: str) -> list[int]:
    live = select(Lead).where(Lead.deleted_at.is_(None))
    _key, stmt = sorted_select(live, LEAD, sort)
    return [lead.id for lead in db.session.scalars(stmt)]


def test_the_leads_list_has_sortable_source_owner_and_status_columns(client, auth):
    auth.login()
    page = client.get("/leads/").get_data(as_text=True)
    headers = re.findall(r'<th scope="col"[^>]*>\s*<a href="\?sort=(\w+)"[^>]*>([^<▲▼]+)', page)
    assert {("source", "Source"), ("owner", "Owner"), ("status", "Status")} <= {(k, v.strip()) for k, v in headers}


@pytest.mark.parametrize("sort", ["status", "-status"])
def test_sorting_by_status_follows_the_pipeline_order(app, sort):
    leads = db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None))).all()
    position = {s.id: s.position for s in db.session.scalars(select(LeadStatus))}
    keyed = sorted(leads, key=lambda lead: (position[lead.status_id], lead.id), reverse=sort.startswith("-"))
    assert _sorted_ids(sort) == [lead.id for lead in keyed]


def test_sorting_by_owner_goes_by_name_and_leads_without_owner_come_last(app):
    lead = db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None)).order_by(Lead.id)).first()
    lead.owner_id = None
    db.session.commit()
    ids = _sorted_ids("owner")
    names = {u.id: u.name for u in db.session.scalars(select(User))}
    owners = [db.session.get(Lead, i).owner_id for i in ids]
    assert owners[-1] is None and lead.id == ids[-1]
    named = [names[o] for o in owners[:-1]]
    assert named == sorted(named)
    assert _sorted_ids("-owner")[0] == lead.id  # going down, the unowned come first (as PostgreSQL would)


def test_sorting_by_source_puts_the_converted_deals_together(client, auth):
    auth.login()
    leads = db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None))).all()
    for lead in leads[:3]:
        lead.source = "Deal"
    db.session.commit()
    html = client.get("/leads/?sort=source&per_page=200", headers={"HX-Request": "true"}).get_data(as_text=True)
    expected = [lead.id for lead in sorted(leads, key=lambda lead: (lead.source, lead.id))]
    assert _row_ids(html) == expected[:len(_row_ids(html))]
    assert '<th scope="col" aria-sort="ascending">' in html and "<html" not in html


def test_an_unknown_sort_falls_back_to_the_newest_first(app):
    assert sorted_select(select(Lead), LEAD, "-nonsense")[0] == "-created_at"
    assert sorted_select(select(Lead), LEAD, "owner.name")[0] == "-created_at"


def test_deals_sort_by_stage_and_owner_too(client, auth):
    auth.login()
    for sort in ("stage", "-stage", "owner", "-owner"):
        assert sort.lstrip("-") in DEAL.sortable
        assert client.get(f"/deals/?sort={sort}").status_code == 200
