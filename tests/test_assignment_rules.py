"""Assignment rules: ordered, first match wins, owners through the owner service, history names the rule;
new leads from the form, web capture and API are routed; "Run rules" re-routes a filter result."""
import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import AssignmentRule, CaptureForm, HistoryEvent, Lead, Pool, PoolMember, Territory
from crm.services import DomainError, PermissionDenied, assignment, bulk, scoring
from crm.services.capture import submit
from crm.services.filters import parse_filter
from crm.services.history import describe, timeline_select
from crm.services.record_types import LEAD
from tests.conftest import user
from werkzeug.datastructures import MultiDict


def rule(name: str, conditions: list[tuple[str, str]], owner: str) -> AssignmentRule:
    made = assignment.add_rule(db.session, user("admin@example.com"), name, conditions, owner)
    db.session.commit()
    return made


def timeline(lead_id: int) -> list[str]:
    return [v.text for v in describe(db.session, db.session.scalars(timeline_select("lead", lead_id)).all())]


def test_the_first_matching_rule_wins_and_history_names_it(app, client, auth):
    ana, lars = user("rep1@example.com"), user("rep2@example.com")
    rule("Web to Ana", [("source", "Web form")], f"user:{ana.id}")
    rule("Everything else to Lars", [], f"user:{lars.id}")
    auth.login()
    response = client.post("/leads/new", data={"title": "Routed", "source": "Web form", "owner": "rules",
                                               "status": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    lead = db.session.scalar(select(Lead).where(Lead.title == "Routed"))
    assert lead.owner_id == ana.id and lead.team_id == ana.team_id
    assert any("assignment rule “Web to Ana”" in t for t in timeline(lead.id))
    client.post("/leads/new", data={"title": "Other", "source": "Fair", "owner": "rules"})
    assert db.session.scalar(select(Lead.owner_id).where(Lead.title == "Other")) == lars.id


def test_an_owner_chosen_in_the_form_is_kept(app, client, auth):
    ana = user("rep1@example.com")
    rule("All to Ana", [], f"user:{ana.id}")
    auth.login()
    admin = user("admin@example.com")
    client.post("/leads/new", data={"title": "Mine", "owner": f"user:{admin.id}"})
    assert db.session.scalar(select(Lead.owner_id).where(Lead.title == "Mine")) == admin.id
    assert '<option selected value="rules">By the assignment rules</option>' in client.get("/leads/new").get_data(as_text=True)


def test_score_range_and_territory_owner(app):
    territory = db.session.scalars(select(Territory).where(Territory.owner_id.is_not(None))).first()
    admin = user("admin@example.com")
    scoring.add_rule(db.session, admin, "source", "Web form", "60")
    rule("Hot leads to their territory's owner", [("score_min", "50")], "territory")
    lead = Lead(title="Hot", source="Web form", territory_id=territory.id, owner_id=admin.id)
    db.session.add(lead)
    db.session.flush()
    scoring.rescore_record(db.session, lead)
    routed = assignment.route_new(db.session, lead, None)
    assert routed is not None and lead.owner_id == territory.owner_id
    cold = Lead(title="Cold", source="Fair", territory_id=territory.id, owner_id=admin.id)
    db.session.add(cold)
    db.session.flush()
    assert assignment.route_new(db.session, cold, None) is None and cold.owner_id == admin.id


def test_a_territory_without_owner_passes_the_lead_to_the_next_rule(app):
    lars = user("rep2@example.com")
    rule("Territory", [], "territory")
    rule("Fallback", [], f"user:{lars.id}")
    lead = Lead(title="Nowhere", territory_id=None)
    db.session.add(lead)
    db.session.flush()
    assert assignment.route_new(db.session, lead, None).name == "Fallback" and lead.owner_id == lars.id


def test_web_capture_is_routed_before_the_forms_own_owner(app):
    ana, lars = user("rep1@example.com"), user("rep2@example.com")
    form = CaptureForm(name="Contact us", slug="contact-us", fields=["person_name", "email"],
                       owner_choice=f"user:{lars.id}", source="Web form")
    db.session.add(form)
    rule("Captured", [("source", "Web form")], f"user:{ana.id}")
    sub = submit(db.session, form, {"email": "new.person@example.org", "person_name": "New Person"})
    assert db.session.get(Lead, sub.record_id).owner_id == ana.id
    db.session.execute(update(AssignmentRule).values(conditions=[["source", "Fair"]]))
    other = submit(db.session, form, {"email": "other@example.org", "person_name": "Other"})
    assert db.session.get(Lead, other.record_id).owner_id == lars.id  # no rule holds: the form's owner


def test_a_pool_rule_takes_turns_through_the_owner_service(app):
    pool = Pool(name="Inbound EU", record_type="lead",
                members=[PoolMember(user_id=user(e).id, position=i)
                         for i, e in enumerate(("rep1@example.com", "rep2@example.com", "rep3@example.com"))])
    db.session.add(pool)
    db.session.flush()
    rule("Pool", [], f"pool:{pool.id}")
    owners_seen = set()
    for i in range(3):
        lead = Lead(title=f"P{i}")
        db.session.add(lead)
        db.session.flush()
        assignment.route_new(db.session, lead, None)
        owners_seen.add(lead.owner_id)
    members = set(db.session.scalars(select(PoolMember.user_id).where(PoolMember.pool_id == pool.id)))
    assert owners_seen <= members and len(owners_seen) == min(3, len(members))


@pytest.mark.parametrize("name, conditions, owner", [
    ("", [], "user:2"), ("x", [("source", "")], "user:2"), ("x", [], ""), ("x", [], "pool:999"),
    ("x", [("score_min", "lots")], "territory"),
])
def test_a_bad_rule_is_refused(app, name, conditions, owner):
    with pytest.raises(DomainError):
        assignment.add_rule(db.session, user("admin@example.com"), name, conditions, owner)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AssignmentRule)) == 0


def test_only_admins_edit_rules(app, client, auth):
    with pytest.raises(PermissionDenied):
        assignment.add_rule(db.session, user("manager@example.com"), "x", [], "territory")
    auth.login("manager@example.com")
    assert client.post("/admin/assignment", data={"name": "x", "owner": "territory"}).status_code == 403


def test_run_rules_reroutes_exactly_the_filter_result_with_history(app):
    admin, ana, lars = (user(e) for e in ("admin@example.com", "rep1@example.com", "rep2@example.com"))
    db.session.execute(update(Lead).values(owner_id=lars.id, team_id=lars.team_id))
    db.session.commit()
    rule("Web to Ana", [("source", "Web form")], f"user:{ana.id}")
    flt = parse_filter(db.session, LEAD, MultiDict({"q": ""}), admin)
    sel = bulk.Selection.build(LEAD, flt, admin, select_all=True)
    web = set(db.session.scalars(select(Lead.id).where(Lead.source == "Web form", Lead.deleted_at.is_(None))))
    total = db.session.scalar(select(func.count()).where(Lead.deleted_at.is_(None)))
    preview = assignment.preview_rules(db.session, sel)
    assert [(name, n) for name, _owner, n in preview] == [("Web to Ana", len(web)), ("", total - len(web))]
    outcome = bulk.apply_action(db.session, sel, "route", expected=total)
    db.session.commit()
    assert outcome.changed == len(web)
    assert set(db.session.scalars(select(Lead.id).where(Lead.owner_id == ana.id))) == web
    vias = set(db.session.scalars(select(HistoryEvent.via).where(HistoryEvent.batch_id == outcome.batch.id,
                                                                  HistoryEvent.field == "owner_id")))
    assert vias == {f"rule:{db.session.scalar(select(AssignmentRule.id))}"}
    assert "kept their owners" in outcome.message


def test_the_drawer_offers_run_rules_with_its_preview(app, client, auth):
    rule("Web to Ana", [("source", "Web form")], f"user:{user('rep1@example.com').id}")
    auth.login()
    page = client.post("/bulk/drawer", data={"type": "lead", "all": "1"}, headers={"HX-Request": "true"})
    text = page.get_data(as_text=True)
    assert "Run rules" in text and "Web to Ana" in text and "No rule matches" in text
    deals = client.post("/bulk/drawer", data={"type": "deal", "all": "1"}, headers={"HX-Request": "true"})
    assert "Run rules" not in deals.get_data(as_text=True)
