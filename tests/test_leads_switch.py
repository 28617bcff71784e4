"""The "use leads" switch (global, or per team): where users land, and every lead URL refused."""
from io import BytesIO

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Lead, Setting, Team, User
from crm.services.api_tokens import issue_token
from crm.services.settings import LEADS_OFF
from tests.conftest import user

SCOPES = ["global", "team"]


def switch_leads_off(scope: str) -> None:
    if scope == "global":
        db.session.merge(Setting(key="use_leads", value="no"))
    else:
        db.session.scalar(select(Team).where(Team.name == "North")).leads_enabled = False
    db.session.commit()


def a_north_lead() -> Lead:
    return db.session.scalar(select(Lead).join(User, User.id == Lead.owner_id)
                             .where(User.team_id == user("manager@example.com").team_id).order_by(Lead.id))


@pytest.mark.parametrize("scope", SCOPES)
def test_logging_in_lands_on_deals_when_leads_are_off(client, auth, scope):
    switch_leads_off(scope)
    assert auth.login("manager@example.com").location == "/deals/"
    assert client.get("/login").location == "/deals/"


def test_logging_in_lands_on_leads_when_leads_are_on(client, auth):
    assert auth.login("manager@example.com").location == "/leads/"


REFUSED = [
    ("get", "/leads/duplicates", None),
    ("get", "/leads/{lead}/convert", None),
    ("post", "/leads/{lead}/convert", {"action": "convert"}),
    ("get", "/leads/merge?ids={lead},{other}", None),
    ("post", "/leads/merge?ids={lead},{other}", {"survivor": "{lead}"}),
    ("get", "/map/leads/points?bbox=-180,-90,180,90&zoom=3", None),
    ("get", "/map?type=lead", None),
    ("get", "/bulk/drawer?type=lead&all=1", None),
    ("post", "/bulk/apply", {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN"}),
    ("get", "/trash?type=lead", None),
    ("post", "/trash/restore", {"type": "lead", "id": "{lead}"}),
]


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("method, url, form", REFUSED)
def test_every_lead_url_is_refused_when_leads_are_off(client, auth, scope, method, url, form):
    lead = a_north_lead()
    ids = {"lead": lead.id, "other": lead.id + 1}
    switch_leads_off(scope)
    auth.login("manager@example.com")
    data = {k: v.format(**ids) for k, v in (form or {}).items()}
    response = getattr(client, method)(url.format(**ids), **({"data": data} if form else {}))
    assert response.status_code == 403
    assert LEADS_OFF in response.get_data(as_text=True)


@pytest.mark.parametrize("scope", SCOPES)
def test_the_api_refuses_leads_when_they_are_off(client, auth, scope):
    switch_leads_off(scope)
    token = issue_token(db.session, user("manager@example.com"))
    db.session.commit()
    for headers in ({"Authorization": f"Bearer {token}"}, {}):
        if not headers:
            auth.login("manager@example.com")
        response = client.get("/api/leads", headers=headers)
        assert response.status_code == 403 and response.json == {"error": LEADS_OFF}
    created = client.post("/api/leads", json={"title": "Sneaky"}, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 403 and db.session.scalar(select(Lead.id).where(Lead.title == "Sneaky")) is None
    assert client.get("/api/deals").status_code == 200


@pytest.mark.parametrize("scope", SCOPES)
def test_the_trash_and_the_map_leave_leads_out_when_they_are_off(client, auth, scope):
    lead = a_north_lead()
    lead.deleted_at = lead.created_at
    switch_leads_off(scope)
    auth.login("manager@example.com")
    trash = client.get("/trash").get_data(as_text=True)
    assert 'href="/trash?type=lead"' not in trash and 'href="/trash?type=deal"' in trash
    assert client.get("/map", follow_redirects=True).request.path == "/map/deals"
    assert client.get("/map/leads", follow_redirects=True).request.path == "/map/deals"
    assert 'href="/map/leads' not in client.get("/map/deals").get_data(as_text=True)


def test_other_teams_keep_their_leads(client, auth):
    switch_leads_off("team")
    auth.login("rep4@example.com")  # team South
    south = db.session.scalar(select(Team.id).where(Team.name == "South"))
    leads = db.session.scalar(select(func.count(Lead.id)).where(Lead.team_id == south, Lead.deleted_at.is_(None)))
    assert leads and client.get("/api/leads").json["count"] == leads
    assert 'href="/trash?type=lead"' in client.get("/trash?type=lead").get_data(as_text=True)
    duplicates = client.get("/leads/duplicates")
    assert duplicates.status_code == 200 and LEADS_OFF not in duplicates.get_data(as_text=True)


@pytest.mark.parametrize("scope", SCOPES)
def test_importing_leads_is_refused_and_not_offered_when_leads_are_off(client, auth, scope):
    switch_leads_off(scope)
    auth.login("manager@example.com")
    page = client.get("/import/").get_data(as_text=True)
    assert 'value="lead"' not in page and 'value="deal"' in page
    response = client.post("/import/", data={"record_type": "lead", "file": (BytesIO(b"title\nA\n"), "a.csv")})
    assert response.status_code == 403


@pytest.mark.parametrize("scope", SCOPES)
def test_pages_do_not_link_to_lead_pages_while_leads_are_off(client, auth, scope):
    from crm.models import Stage
    from crm.services.conversion import LeadPlan, convert_lead
    from crm.services import history
    lead = a_north_lead()
    manager = user("manager@example.com")
    stage = db.session.scalar(select(Stage).order_by(Stage.id))
    deal = convert_lead(db.session, lead, manager, LeadPlan(customer="none", stage_id=stage.id)).deal
    history.log(db.session, "lead", lead.id, manager.id, "note", new="Called back")
    db.session.commit()
    auth.login("manager@example.com")
    assert f'href="/leads/{lead.id}"' in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f'href="/leads/{lead.id}"' in client.get("/activity").get_data(as_text=True)
    switch_leads_off(scope)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f"/leads/{lead.id}" not in page and f"from lead “{lead.title}”" in page
    feed = client.get("/activity").get_data(as_text=True)
    assert f"/leads/{lead.id}" not in feed and lead.title in feed
