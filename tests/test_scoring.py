"""The lead score: admins' rules, recomputed set-based, explained on the lead, sortable and filterable."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Activity, HistoryEvent, Lead, ScoringRule, Territory
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied, engagement, scoring
from crm.services.editing import update_record
from crm.services.record_types import LEAD
from tests.conftest import user

HTMX = {"HX-Request": "true"}


def a_lead(**values) -> Lead:
    lead = db.session.scalar(select(Lead).where(Lead.deleted_at.is_(None), Lead.converted_at.is_(None))
                             .order_by(Lead.id))
    db.session.execute(update(Lead).where(Lead.id == lead.id).values(**values))
    db.session.commit()
    db.session.refresh(lead)
    return lead


def scores() -> dict[int, int]:
    return dict(db.session.execute(select(Lead.id, Lead.score)).all())


def test_a_new_rule_scores_every_lead_at_once_in_sql(app, admin):
    web = db.session.scalar(select(func.count()).where(Lead.source == "Web form"))
    assert web
    scoring.add_rule(db.session, admin, "source", "Web form", "25")
    db.session.commit()
    by_source = db.session.execute(select(Lead.source, Lead.score)).all()
    assert {s for src, s in by_source if src == "Web form"} == {25}
    assert {s for src, s in by_source if src != "Web form"} == {0}


def test_the_score_stays_between_0_and_100(app, admin):
    lead = a_lead(source="Web form", country="Sweden")
    for kind, value, points in (("source", "Web form", "80"), ("country", "sweden", "60")):
        scoring.add_rule(db.session, admin, kind, value, points)
    scoring.add_rule(db.session, admin, "title_contains", "zzz-none", "-50")
    db.session.commit()
    assert db.session.get(Lead, lead.id).score == 100
    scoring.add_rule(db.session, admin, "email_logged", "", "-100")  # no email: no effect
    scoring.add_rule(db.session, admin, "source", "Web form", "-100")
    scoring.add_rule(db.session, admin, "country", "Sweden", "-100")
    db.session.commit()
    assert db.session.get(Lead, lead.id).score == 0


def test_removing_a_rule_takes_its_points_away(app, admin):
    rule = scoring.add_rule(db.session, admin, "source", "Web form", "25")
    db.session.commit()
    scoring.delete_rule(db.session, admin, rule)
    db.session.commit()
    assert set(scores().values()) == {0}


def test_the_lead_page_explains_its_score(app, admin, client, auth):
    lead = a_lead(source="Web form", created_at=utcnow() - timedelta(days=60))
    scoring.add_rule(db.session, admin, "source", "Web form", "25")
    scoring.add_rule(db.session, admin, "activity_within", "7", "20")
    scoring.add_rule(db.session, admin, "no_activity_for", "30", "-10")
    db.session.commit()
    assert scoring.explain(db.session, db.session.get(Lead, lead.id)) == [
        (25, "source Web form"), (-10, "no activity for 30 days")]
    auth.login()
    activity = engagement.plan_activity(db.session, LEAD, db.session.get(Lead, lead.id), "call", "Intro", "",
                                        admin)
    engagement.complete_activity(db.session, LEAD, db.session.get(Lead, lead.id), activity, admin)
    db.session.commit()
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "+25</span> source Web form" in page and "+20</span> activity in the last 7 days" in page
    assert "no activity for 30 days" not in page
    assert db.session.get(Lead, lead.id).score == 45


def test_a_changed_lead_is_rescored_and_history_does_not_log_the_score(app, admin):
    lead = a_lead(source="Fair")
    scoring.add_rule(db.session, admin, "source", "Web form", "30")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(HistoryEvent))
    update_record(db.session, lead, {"source": "Web form"}, admin)
    db.session.commit()
    assert lead.score == 30
    fields = db.session.scalars(select(HistoryEvent.field).order_by(HistoryEvent.id.desc())
                                .limit(db.session.scalar(select(func.count()).select_from(HistoryEvent)) - before))
    assert list(fields) == ["source"]


def test_an_overdue_activity_and_an_old_lead_count(app, admin):
    lead = a_lead(created_at=utcnow() - timedelta(days=100))
    db.session.add(Activity(kind="call", subject="Late", lead_id=lead.id, due_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    scoring.add_rule(db.session, admin, "overdue_activity", "", "-15")
    scoring.add_rule(db.session, admin, "older_than", "90", "10")
    scoring.add_rule(db.session, admin, "overdue_activity", "", "20")
    db.session.commit()
    assert db.session.get(Lead, lead.id).score == 15


def test_territory_value_status_and_custom_conditions(app, admin):
    from crm.models import CustomField
    db.session.add(CustomField(record_type="lead", key="size", label="Size", kind="choice", choices=["S", "L"]))
    territory = db.session.scalars(select(Territory)).first()
    lead = a_lead(value=5000, custom={"size": "L"}, territory_id=territory.id)
    for kind, value in (("value_min", "1000"), ("custom", "size=L"), ("territory", territory.name),
                        ("status", str(lead.status_id))):
        scoring.add_rule(db.session, admin, kind, value, "10")
    db.session.commit()
    assert db.session.get(Lead, lead.id).score == 40


@pytest.mark.parametrize("kind, value, points", [
    ("source", "", "10"), ("activity_within", "seven", "10"), ("territory", "Atlantis", "5"),
    ("custom", "nokey", "5"), ("nonsense", "x", "5"), ("source", "Web", "0"), ("source", "Web", "101"),
    ("source", "Web", "ten"),
])
def test_a_bad_rule_is_refused_and_nothing_is_stored(app, admin, kind, value, points):
    with pytest.raises(DomainError):
        scoring.add_rule(db.session, admin, kind, value, points)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ScoringRule)) == 0


def test_only_admins_change_scoring_rules(app, client, auth):
    with pytest.raises(PermissionDenied):
        scoring.add_rule(db.session, user("manager@example.com"), "source", "Web form", "10")
    auth.login("manager@example.com")
    assert client.post("/admin/scoring", data={"kind": "source", "value": "Web", "points": "5"}).status_code == 403


def test_the_admin_page_adds_and_removes_rules(app, client, auth):
    auth.login()
    bad = client.post("/admin/scoring", data={"kind": "activity_within", "value": "soon", "points": "5"})
    assert bad.status_code == 422 and "whole number" in bad.get_data(as_text=True)
    ok = client.post("/admin/scoring", data={"kind": "source", "value": "Web form", "points": "25"})
    assert ok.status_code == 303
    rule = db.session.scalar(select(ScoringRule))
    assert (rule.kind, rule.value, rule.points) == ("source", "Web form", 25)
    assert "source Web form" in client.get("/admin/scoring").get_data(as_text=True)
    client.post(f"/admin/scoring/{rule.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(ScoringRule)) == 0


def test_score_is_a_sortable_column_and_a_filter(app, admin, client, auth):
    scoring.add_rule(db.session, admin, "source", "Web form", "40")
    db.session.commit()
    auth.login()
    rows = client.get("/leads/?sort=-score&score_min=40", headers=HTMX).get_data(as_text=True)
    assert "<html" not in rows and 'class="badge score"' in rows
    expected = db.session.scalar(select(func.count()).where(Lead.score >= 40, Lead.deleted_at.is_(None)))
    assert expected and f"<strong>{expected}</strong> leads match" in rows
    assert client.get("/leads/?score_min=101").status_code in (200, 422)
    assert "A minimum score is a whole number" in client.get("/leads/?score_min=abc").get_data(as_text=True)
    assert "Only leads have a score" in client.get("/deals/?score_min=5").get_data(as_text=True)
