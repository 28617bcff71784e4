"""The JSON API uses the same filter builder and permissions as the pages."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Deal, HistoryEvent, Lead, Stage
from crm.models.mixins import utcnow
from crm.services.api_tokens import issue_token


def bearer(user) -> dict:
    token = issue_token(db.session, user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_listing_leads_applies_the_filter_and_the_callers_permissions(client, rep):
    response = client.get("/api/leads?owner=me", headers=bearer(rep))
    mine = db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == rep.id))
    assert response.status_code == 200 and response.json["count"] == mine
    assert {item["owner_id"] for item in response.json["items"]} == {rep.id}


def test_an_invalid_filter_is_a_400_with_the_reason(client, admin):
    response = client.get("/api/leads?created_from=yesterday", headers=bearer(admin))
    assert response.status_code == 400 and "not a date" in response.json["details"][0]


def test_creating_a_lead_writes_history_and_needs_a_token(client, admin):
    assert client.post("/api/leads", json={"title": "From the website"}).status_code == 401
    response = client.post("/api/leads", json={"title": "From the website", "email": "x@y.com"}, headers=bearer(admin))
    assert response.status_code == 201
    lead_id = response.json["id"]
    assert db.session.scalar(select(HistoryEvent.kind).where(HistoryEvent.record_type == "lead",
                                                             HistoryEvent.record_id == lead_id)) == "create"


def test_creating_with_unknown_fields_or_owner_changes_nothing(client, admin):
    before = db.session.scalar(select(func.count(Lead.id)))
    assert client.post("/api/leads", json={"title": "x", "hack": 1}, headers=bearer(admin)).status_code == 422
    assert client.post("/api/leads", json={"title": "x", "owner": "user:9999"}, headers=bearer(admin)).status_code == 422
    assert db.session.scalar(select(func.count(Lead.id))) == before


def test_a_deal_needs_a_stage(client, admin):
    headers = bearer(admin)
    assert client.post("/api/deals", json={"title": "Big one"}, headers=headers).status_code == 422
    stage = db.session.scalar(select(Stage).limit(1))
    response = client.post("/api/deals", json={"title": "Big one", "stage": stage.id}, headers=headers)
    assert response.status_code == 201
    assert db.session.get(Deal, response.json["id"]).pipeline_id == stage.pipeline_id


def test_a_rep_cannot_read_another_teams_lead(client, rep):
    other = db.session.scalar(select(Lead.id).where(Lead.team_id != rep.team_id))
    assert client.get(f"/api/leads/{other}", headers=bearer(rep)).status_code == 404


def test_a_converted_lead_says_when_and_into_what(client, admin):
    lead = db.session.get(Lead, 1)
    lead.converted_at, lead.converted_contact_id = utcnow(), 1
    db.session.commit()
    data = client.get(f"/api/leads/{lead.id}", headers=bearer(admin)).get_json()
    assert data["converted_at"] and data["converted_contact_id"] == 1 and "origin_deal_id" in data
