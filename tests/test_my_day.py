"""My day: the signed-in rep's due and overdue activities and best unplanned leads, one-tap actions."""
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from crm.extensions import db
from crm.models import Activity, HistoryEvent, Lead, LeadStatus
from crm.models.mixins import utcnow
from tests.conftest import user

HTMX = {"HX-Request": "true"}


def my_open_leads(email: str) -> list[Lead]:
    return db.session.scalars(select(Lead).join(LeadStatus).where(
        Lead.owner_id == user(email).id, Lead.deleted_at.is_(None), Lead.converted_at.is_(None),
        LeadStatus.kind == "open").order_by(Lead.id)).all()


def test_my_day_lists_my_due_and_overdue_activities_only(app, client, auth):
    ana, lars = user("rep1@example.com"), user("rep2@example.com")
    lead = my_open_leads("rep1@example.com")[0]
    db.session.execute(delete(Activity))
    now = utcnow()
    db.session.add_all([
        Activity(kind="call", subject="Late call", lead_id=lead.id, owner_id=ana.id, due_at=now - timedelta(days=2)),
        Activity(kind="task", subject="Today task", lead_id=lead.id, owner_id=ana.id, due_at=now + timedelta(minutes=1)),
        Activity(kind="task", subject="Next week", lead_id=lead.id, owner_id=ana.id, due_at=now + timedelta(days=7)),
        Activity(kind="call", subject="Lars call", lead_id=lead.id, owner_id=lars.id, due_at=now),
    ])
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get("/today/").get_data(as_text=True)
    assert "Late call" in page and "Today task" in page and "overdue" in page
    assert "Next week" not in page and "Lars call" not in page
    assert page.index("Late call") < page.index("Today task")


def test_top_leads_are_mine_without_a_plan_by_score(app, client, auth):
    leads = my_open_leads("rep1@example.com")
    db.session.execute(delete(Activity))
    db.session.execute(update(Lead).where(Lead.id == leads[0].id).values(score=90))
    db.session.add(Activity(kind="call", subject="Planned", lead_id=leads[1].id, owner_id=leads[1].owner_id))
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get("/today/").get_data(as_text=True)
    plan = page[page.index("Top leads with nothing planned"):]
    assert leads[0].title in plan and leads[1].title not in plan
    assert plan.index(leads[0].title) < plan.index(leads[2].title) if len(leads) > 2 else True


def test_one_tap_actions_write_activities_and_history(app, client, auth):
    lead = my_open_leads("rep1@example.com")[0]
    db.session.execute(delete(Activity))
    db.session.commit()
    auth.login("rep1@example.com")
    fragment = client.post(f"/today/leads/{lead.id}/call", headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and "Call logged on" in fragment
    call = db.session.scalar(select(Activity).where(Activity.lead_id == lead.id))
    assert call.done and call.done_at is not None and call.kind == "call"
    assert client.post(f"/today/leads/{lead.id}/plan", data={"kind": "meeting", "subject": "Demo",
                                                              "due_at": (utcnow()).strftime("%Y-%m-%dT%H:%M")}).status_code == 303
    demo = db.session.scalar(select(Activity).where(Activity.subject == "Demo"))
    assert not demo.done
    client.post(f"/today/activities/{demo.id}/done")
    db.session.refresh(demo)
    assert demo.done
    kinds = db.session.scalars(select(HistoryEvent.kind).where(HistoryEvent.record_type == "lead",
                                                               HistoryEvent.record_id == lead.id,
                                                               HistoryEvent.kind.like("activity%"))).all()
    assert sorted(kinds) == ["activity", "activity", "activity_done", "activity_done"]


def test_nobody_acts_on_someone_elses_activity_or_lead(app, client, auth):
    lars_lead = my_open_leads("rep2@example.com")[0]
    other = Activity(kind="call", subject="Not mine", lead_id=lars_lead.id, owner_id=lars_lead.owner_id)  # a rep
    # may not change a team-mate's lead, so not its activities either
    db.session.add(other)
    db.session.commit()
    auth.login("rep1@example.com")
    assert client.post(f"/today/activities/{other.id}/done").status_code == 403
    assert client.post(f"/today/leads/{lars_lead.id}/call").status_code == 403
    db.session.refresh(other)
    assert not other.done
    assert client.post("/today/leads/99999999/call").status_code == 404
    bad = client.post(f"/today/leads/{my_open_leads('rep1@example.com')[0].id}/plan", data={"subject": ""})
    assert bad.status_code == 303 and db.session.scalar(select(func.count()).where(Activity.subject == "")) == 0
