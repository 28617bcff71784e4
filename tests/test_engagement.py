"""Notes and activities on a record: planning, marking done, reopening, who may, and what history says."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from crm.extensions import db
from crm.models import Activity, Deal, HistoryEvent, Lead
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import engagement
from crm.services.history import describe, timeline_select
from crm.services.pipeline import next_activities
from crm.services.record_types import RECORD_TYPES
from tests.conftest import user

LEAD = RECORD_TYPES["lead"]
HTMX = {"HX-Request": "true"}


def activity(subject: str, *, kind: str = "call", due_in_days: float | None = 1, done: bool = False, **record) -> Activity:
    """An activity attached to the record given as lead_id=…, deal_id=…; committed."""
    due = utcnow() + timedelta(days=due_in_days) if due_in_days is not None else None
    item = Activity(kind=kind, subject=subject, due_at=due, done=done, **record)
    db.session.add(item)
    db.session.commit()
    return item


def timeline_texts(record_type: str, record_id: int) -> list[str]:
    events = db.session.scalars(timeline_select(record_type, record_id)).all()
    return [view.text for view in describe(db.session, events)]


def lead_of(email: str) -> Lead:
    return db.session.scalar(select(Lead).where(Lead.owner_id == user(email).id, Lead.deleted_at.is_(None),
                                                Lead.converted_at.is_(None)).order_by(Lead.id))


def test_marking_an_activity_done_and_reopening_it_writes_history(client, auth):
    visit = activity("Site visit", lead_id=1)
    auth.login()
    assert client.post(f"/leads/1/activities/{visit.id}/done").status_code == 303
    assert db.session.get(Activity, visit.id).done is True
    assert timeline_texts("lead", 1)[0] == "activity done: call: Site visit"
    assert client.post(f"/leads/1/activities/{visit.id}/reopen").status_code == 303
    assert db.session.get(Activity, visit.id).done is False
    assert timeline_texts("lead", 1)[:2] == ["activity reopened: call: Site visit", "activity done: call: Site visit"]


@pytest.mark.parametrize("plural, name", [("deals", "deal"), ("contacts", "contact"), ("organizations", "organization")])
def test_every_record_type_has_the_done_and_reopen_routes(client, auth, plural, name):
    visit = activity("Site visit", **{f"{name}_id": 1})
    auth.login()
    assert client.post(f"/{plural}/1/activities/{visit.id}/done").status_code == 303
    assert client.post(f"/{plural}/1/activities/{visit.id}/reopen").status_code == 303
    assert timeline_texts(name, 1)[:2] == ["activity reopened: call: Site visit", "activity done: call: Site visit"]


def test_marking_a_done_activity_done_again_changes_and_logs_nothing(app, admin):
    visit = activity("Site visit", lead_id=1, done=True)
    before = db.session.scalar(select(func.count(HistoryEvent.id)))
    assert engagement.complete_activity(db.session, LEAD, db.session.get(Lead, 1), visit, admin) is False
    assert engagement.reopen_activity(db.session, LEAD, db.session.get(Lead, 1), visit, admin) is True
    assert engagement.reopen_activity(db.session, LEAD, db.session.get(Lead, 1), visit, admin) is False
    assert db.session.scalar(select(func.count(HistoryEvent.id))) == before + 1


def test_with_htmx_the_side_column_and_the_timeline_come_back_in_place(client, auth):
    visit = activity("Site visit", lead_id=1)
    auth.login()
    response = client.post(f"/leads/1/activities/{visit.id}/done", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="record-side"' in html and 'id="timeline" class="card" aria-label="History" hx-swap-oob="true"' in html
    assert "activity done: call: Site visit" in html and "Reopen" in html


def test_a_rep_may_not_complete_an_activity_on_someone_elses_record(client, auth):
    rep, teammates_lead = user("rep1@example.com"), lead_of("rep2@example.com")
    visit = activity("Site visit", lead_id=teammates_lead.id)
    with pytest.raises(PermissionDenied):
        engagement.complete_activity(db.session, LEAD, teammates_lead, visit, rep)
    auth.login("rep1@example.com")
    page = client.get(f"/leads/{teammates_lead.id}").get_data(as_text=True)  # a teammate's lead: visible, read only
    assert "Site visit" in page and "Mark" not in page
    assert client.post(f"/leads/{teammates_lead.id}/activities/{visit.id}/done").status_code == 403
    db.session.expire_all()
    assert db.session.get(Activity, visit.id).done is False
    assert "activity done: call: Site visit" not in timeline_texts("lead", teammates_lead.id)


def test_the_owner_rep_may_complete_an_activity_on_their_own_record(client, auth):
    own = lead_of("rep1@example.com")
    visit = activity("Site visit", lead_id=own.id)
    auth.login("rep1@example.com")
    assert client.post(f"/leads/{own.id}/activities/{visit.id}/done").status_code == 303
    assert db.session.get(Activity, visit.id).done is True


@pytest.mark.parametrize("action", ["done", "reopen"])
def test_an_activity_of_another_record_is_a_404(client, auth, action):
    elsewhere = activity("Someone else's call", lead_id=2)
    auth.login()
    assert client.post(f"/leads/1/activities/{elsewhere.id}/{action}").status_code == 404
    assert client.post(f"/deals/1/activities/{elsewhere.id}/{action}").status_code == 404
    assert client.post(f"/leads/1/activities/999999/{action}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Activity, elsewhere.id).done is False


def test_the_service_refuses_an_activity_of_another_record(app, admin):
    elsewhere = activity("Someone else's call", lead_id=2)
    with pytest.raises(DomainError, match="belongs to another lead"):
        engagement.complete_activity(db.session, LEAD, db.session.get(Lead, 1), elsewhere, admin)


@pytest.mark.parametrize("kind, subject, due, message", [
    ("call", "  ", "", "An activity needs a subject and a kind."),
    ("fax", "Send the offer", "", "An activity needs a subject and a kind."),
    ("call", "Call back", "tomorrow", "The due date is not a date; the activity was not added."),
])
def test_planning_an_invalid_activity_says_why(client, auth, admin, kind, subject, due, message):
    with pytest.raises(DomainError, match=re.escape(message)):
        engagement.plan_activity(db.session, LEAD, db.session.get(Lead, 1), kind, subject, due, admin)
    auth.login()
    page = client.post("/leads/1/activities", data={"kind": kind, "subject": subject, "due_at": due},
                       follow_redirects=True).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(func.count(Activity.id)).where(Activity.lead_id == 1,
                                                                  Activity.subject == subject)) == 0


def test_an_empty_note_is_refused_with_a_message(client, auth, admin):
    with pytest.raises(DomainError, match="A note cannot be empty."):
        engagement.add_note(db.session, LEAD, db.session.get(Lead, 1), "   ", admin)
    auth.login()
    assert "A note cannot be empty." in client.post("/leads/1/notes", data={"body": " "}, follow_redirects=True).get_data(as_text=True)


def test_activities_of_a_trashed_record_cannot_change(app, admin):
    lead = db.session.get(Lead, 1)
    visit = activity("Site visit", lead_id=lead.id)
    lead.deleted_at = utcnow()
    with pytest.raises(DomainError, match="in the trash"):
        engagement.complete_activity(db.session, LEAD, lead, visit, admin)


def test_the_record_page_lists_open_activities_by_due_date_then_done_ones(client, auth):
    db.session.execute(delete(Activity).where(Activity.lead_id == 1))
    activity("Later call", lead_id=1, due_in_days=5)
    activity("Missed call", lead_id=1, due_in_days=-2)
    activity("Undated task", kind="task", lead_id=1, due_in_days=None)
    activity("Earlier visit", kind="meeting", lead_id=1, due_in_days=-10, done=True)
    auth.login()
    side = client.get("/leads/1").get_data(as_text=True)
    card = side[side.index('aria-label="Activities"'):side.index('aria-label="Notes"')]
    items = re.findall(r"<li.*?</li>", card, re.S)
    subjects = [re.search(r'class="subject">([^<]+)<', item).group(1) for item in items]
    assert subjects == ["Missed call", "Later call", "Undated task", "Earlier visit"]
    assert ">overdue<" in items[0] and "overdue" not in items[1] + items[2] + items[3]
    assert 'class="done"' in items[3] and ">done<" in items[3] and "Reopen" in items[3]
    assert "Mark<span class=\"visually-hidden\"> “Missed call”</span> done" in items[0]


def test_the_kanban_next_activity_skips_done_ones(client, auth):
    deal = db.session.get(Deal, 1)
    db.session.execute(delete(Activity).where(Activity.deal_id.in_([1, 2])))
    activity("Finished demo", deal_id=1, due_in_days=-3, done=True)
    activity("Send contract", deal_id=1, due_in_days=4)
    activity("Old call", deal_id=2, due_in_days=-1, done=True)
    found = next_activities(db.session, [1, 2])
    assert found[1].subject == "Send contract" and 2 not in found
    auth.login()
    html = client.get(f"/pipeline?pipeline={deal.pipeline_id}").get_data(as_text=True)
    card = html[html.index('id="deal-1"'):]
    card = card[:card.index("</li>")]
    assert "Next: Send contract" in card and "Finished demo" not in card
