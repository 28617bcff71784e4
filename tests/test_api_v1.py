"""REST API v1: records through the pages' services, tokens with scopes, JSON errors, idempotency."""
from datetime import timedelta

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import ApiToken, CustomField, HistoryEvent, Lead, Pool, PoolMember, Stage, User
from crm.models.api import READ
from crm.models.mixins import utcnow
from crm.services.api_tokens import issue_token, revoke
from tests.conftest import user


def bearer(person: User, scope: str = "read-write", **kwargs) -> dict:
    token = issue_token(db.session, person, "test", scope, **kwargs)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count(model.id)).where(*where))


def test_a_filtered_list_pages_with_next_links_and_the_callers_permissions(client, rep):
    headers = bearer(rep)
    mine = count(Lead, Lead.owner_id == rep.id, Lead.deleted_at.is_(None))
    seen, url = [], "/api/v1/leads?owner=me&per_page=2"
    while url:
        body = client.get(url, headers=headers).get_json()
        assert body["count"] == mine
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == mine
    assert {db.session.get(Lead, i).owner_id for i in seen} == {rep.id}


def test_a_rep_never_sees_another_teams_lead(client, rep):
    other = db.session.scalar(select(Lead.id).where(Lead.team_id != rep.team_id))
    response = client.get(f"/api/v1/leads/{other}", headers=bearer(rep))
    assert response.status_code == 404 and response.json["error"]
    listed = client.get("/api/v1/leads?per_page=200", headers=bearer(rep)).json["items"]
    assert other not in {item["id"] for item in listed}


def test_an_invalid_filter_is_a_400_with_the_reason(client, admin):
    response = client.get("/api/v1/leads?created_from=yesterday", headers=bearer(admin))
    assert response.status_code == 400
    assert response.json["error"] and "not a date" in response.json["details"][0]


def test_calls_without_a_live_token_are_refused(client, admin):
    assert client.get("/api/v1/leads").status_code == 401
    expired = bearer(admin)
    db.session.execute(ApiToken.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert client.get("/api/v1/leads", headers=expired).status_code == 401
    revoked = bearer(admin)
    revoke(db.session, db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first(), admin)
    db.session.commit()
    response = client.get("/api/v1/leads", headers=revoked)
    assert response.status_code == 401 and response.json == {"error": response.json["error"], "details": None}


def test_a_read_token_cannot_write(client, admin):
    headers = bearer(admin, READ)
    assert client.get("/api/v1/leads", headers=headers).status_code == 200
    before = count(Lead)
    response = client.post("/api/v1/leads", json={"title": "Nope"}, headers=headers)
    assert response.status_code == 403 and count(Lead) == before


def test_creating_a_lead_owned_by_a_pool_by_name_gives_it_to_the_next_member(client, admin):
    pool = Pool(name="Inbound EU", record_type="lead")
    rep = user("rep2@example.com")
    pool.members.append(PoolMember(user_id=rep.id))
    db.session.add(pool)
    db.session.commit()
    response = client.post("/api/v1/leads", json={"title": "Web form", "owner": "pool:Inbound EU",
                                                  "value": 1200.5, "status": "New"}, headers=bearer(admin))
    assert response.status_code == 201, response.json
    lead = db.session.get(Lead, response.json["id"])
    assert lead.owner_id == rep.id and response.json["owner"] == rep.id and float(lead.value) == 1200.5
    via = db.session.scalar(select(HistoryEvent.via).where(HistoryEvent.record_id == lead.id,
                                                           HistoryEvent.field == "owner_id"))
    assert via == f"pool:{pool.id}"


def test_owner_may_be_a_user_email(client, admin):
    rep = user("rep1@example.com")
    response = client.post("/api/v1/contacts", json={"name": "Ana", "owner": rep.email}, headers=bearer(admin))
    assert response.status_code == 201 and response.json["owner"] == rep.id


def test_bad_bodies_are_422_json_and_change_nothing(client, admin):
    headers, before = bearer(admin), count(Lead)
    for body in ({"title": "x", "hack": 1}, {"person_name": "no title"}, {"title": "x", "owner": "user:9999"},
                 {"title": "x", "value": -5}, {"title": "x", "status": "No such status"}, [1, 2], "text"):
        response = client.post("/api/v1/leads", json=body, headers=headers)
        assert response.status_code == 422, (body, response.json)
        assert set(response.json) == {"error", "details"}
    assert count(Lead) == before


def test_a_deal_needs_a_stage_and_takes_its_pipeline(client, admin):
    headers = bearer(admin)
    assert client.post("/api/v1/deals", json={"title": "Big one"}, headers=headers).status_code == 422
    stage = db.session.scalar(select(Stage).limit(1))
    response = client.post("/api/v1/deals", json={"title": "Big one", "stage": stage.id}, headers=headers)
    assert response.status_code == 201 and response.json["pipeline_id"] == stage.pipeline_id


def test_patch_changes_only_the_fields_sent_and_writes_history(client, admin):
    lead = db.session.scalar(select(Lead).where(Lead.deleted_at.is_(None)).limit(1))
    title = lead.title
    response = client.patch(f"/api/v1/leads/{lead.id}", json={"city": "Umeå", "phone": None}, headers=bearer(admin))
    assert response.status_code == 200, response.json
    db.session.refresh(lead)
    assert (lead.city, lead.phone, lead.title) == ("Umeå", "", title)
    fields = set(db.session.scalars(select(HistoryEvent.field).where(HistoryEvent.record_id == lead.id,
                                                                     HistoryEvent.kind == "update")))
    assert "city" in fields and "title" not in fields
    assert client.patch(f"/api/v1/leads/{lead.id}", json={"title": None}, headers=bearer(admin)).status_code == 422


def test_delete_moves_to_the_trash_and_restore_brings_it_back(client, admin):
    headers = bearer(admin)
    lead_id = client.post("/api/v1/leads", json={"title": "Short-lived"}, headers=headers).json["id"]
    assert client.delete(f"/api/v1/leads/{lead_id}", headers=headers).json["deleted_at"]
    assert db.session.get(Lead, lead_id).deleted_at is not None
    assert lead_id in {i["id"] for i in client.get("/api/v1/leads?trash=1&per_page=200", headers=headers).json["items"]}
    assert client.post(f"/api/v1/leads/{lead_id}/restore", headers=headers).json["deleted_at"] is None
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).deleted_at is None


def test_a_retried_create_with_the_same_idempotency_key_creates_once(client, admin):
    headers = bearer(admin) | {"Idempotency-Key": "order-123"}
    before = count(Lead)
    first = client.post("/api/v1/leads", json={"title": "Once"}, headers=headers)
    again = client.post("/api/v1/leads", json={"title": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    assert count(Lead) == before + 1
    other = client.post("/api/v1/leads", json={"title": "Other"}, headers=headers)
    assert other.status_code == 422 and count(Lead) == before + 1


def test_custom_fields_are_written_checked_and_documented(client, admin):
    db.session.add(CustomField(record_type="lead", key="budget", label="Budget", kind="number"))
    db.session.commit()
    headers = bearer(admin)
    response = client.post("/api/v1/leads", json={"title": "Custom", "custom": {"budget": "12.5"}}, headers=headers)
    assert response.status_code == 201 and response.json["custom"] == {"budget": 12.5}
    assert client.post("/api/v1/leads", json={"title": "x", "custom": {"budget": "lots"}},
                       headers=headers).status_code == 422
    assert client.post("/api/v1/leads", json={"title": "x", "custom": {"nope": 1}}, headers=headers).status_code == 422
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["schemas"]["Lead"]["properties"]["custom"]["properties"]["budget"]["type"] == [
        "number", "null"]


def test_activities_and_notes_go_through_the_record_rules(client, admin, rep):
    lead = db.session.scalar(select(Lead).where(Lead.owner_id == rep.id, Lead.deleted_at.is_(None)).limit(1))
    headers = bearer(rep)
    base = f"/api/v1/leads/{lead.id}"
    activity = client.post(f"{base}/activities", json={"kind": "call", "subject": "Call back"}, headers=headers)
    assert activity.status_code == 201
    done = client.patch(f"{base}/activities/{activity.json['id']}", json={"done": True}, headers=headers)
    assert done.json["done"] is True
    assert client.post(f"{base}/notes", json={"body": "Met at the fair"}, headers=headers).status_code == 201
    assert client.get(f"{base}/notes", headers=headers).json[0]["body"] == "Met at the fair"
    other = db.session.scalar(select(Lead.id).where(Lead.team_id != rep.team_id))
    assert client.post(f"/api/v1/leads/{other}/notes", json={"body": "x"}, headers=headers).status_code == 404


def test_unknown_paths_and_methods_answer_json(client, admin):
    headers = bearer(admin)
    assert client.get("/api/v1/nothing", headers=headers).json["error"]
    response = client.put("/api/v1/leads", headers=headers)
    assert response.status_code == 405 and response.json["error"]


def test_the_token_rate_limit_answers_429_with_retry_after(app, database_url, tmp_path, admin):
    from crm import create_app
    from crm.config import TestConfig
    from crm.extensions import limiter
    limited_app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                             RATELIMIT_STORAGE_URI=f"sqlite:///{tmp_path}/limits.db", API_RATE_LIMIT="2 per minute")
    try:
        client = limited_app.test_client()
        headers, other = bearer(admin), bearer(admin)
        statuses = [client.get("/api/v1/pools", headers=headers).status_code for _ in range(3)]
        limited = client.get("/api/v1/pools", headers=headers)
        assert client.get("/api/v1/pools", headers=other).status_code == 200
    finally:
        limiter.enabled = False
    assert statuses == [200, 200, 429]
    assert int(limited.headers["Retry-After"]) > 0 and limited.json["error"]


def test_the_docs_page_loads_swagger_ui_from_the_allow_list_without_inline_script(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/vendor/swagger-ui-bundle.js" in page and "/api/v1/openapi.json" in page
    assert "<script>" not in page and "cdn" not in page.lower()
    assert client.get("/vendor/swagger-ui-bundle.js").status_code == 200


def mass_change(client, headers, **body):
    return client.post("/api/v1/leads/mass-change", json={"action": "reassign"} | body, headers=headers)


def test_mass_reassign_runs_after_a_dry_run_on_exactly_the_previewed_set(client, admin):
    headers, rep = bearer(admin), user("rep2@example.com")
    source = user("rep1@example.com")
    theirs = count(Lead, Lead.owner_id == source.id, Lead.deleted_at.is_(None))
    dry = mass_change(client, headers, filter={"owner": [str(source.id)]}, owner=rep.email)
    assert dry.status_code == 200 and dry.json["count"] == theirs and dry.json["dry_run"] is True
    assert dry.json["by_owner"] == [{"owner": source.id, "name": source.name, "count": theirs}]
    assert count(Lead, Lead.owner_id == source.id, Lead.deleted_at.is_(None)) == theirs  # nothing changed yet
    done = mass_change(client, headers, filter={"owner": [str(source.id)]}, owner=rep.email,
                       confirmation=dry.json["confirmation"])
    assert done.status_code == 200, done.json
    assert done.json["changed"] == theirs and done.json["batch_id"]
    assert count(Lead, Lead.owner_id == source.id, Lead.deleted_at.is_(None)) == 0


def test_a_mass_change_refuses_with_409_when_the_set_changed_and_with_422_for_another_change(client, admin):
    headers, source = bearer(admin), user("rep1@example.com")
    args = {"filter": {"owner": [str(source.id)]}, "owner": "rep2@example.com"}
    token = mass_change(client, headers, **args).json["confirmation"]
    other = db.session.scalar(select(Lead).where(Lead.owner_id != source.id, Lead.deleted_at.is_(None)).limit(1))
    other.owner_id = source.id
    db.session.commit()
    before = count(Lead, Lead.owner_id == source.id)
    assert mass_change(client, headers, **args, confirmation=token).status_code == 409
    assert count(Lead, Lead.owner_id == source.id) == before
    token = mass_change(client, headers, **args).json["confirmation"]
    assert client.post("/api/v1/leads/mass-change", json=args | {"action": "delete", "confirmation": token},
                       headers=headers).status_code == 422
    assert count(Lead, Lead.owner_id == source.id, Lead.deleted_at.is_(None)) == before


def test_a_rep_cannot_mass_change(client, rep):
    response = mass_change(client, bearer(rep), filter={"owner": ["me"]}, owner="me@example.com")
    assert response.status_code in (403, 422) and response.json["error"]
