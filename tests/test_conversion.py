"""Deal -> lead conversion (Pipedrive style): what is carried, trash and restore, permissions,
idempotency, bulk conversion as a background job."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.models import (
    Activity, Batch, Deal, EmailMessage, HistoryEvent, Job, Lead, Note, Notification, Setting,
    Stage, Team, User,
)
from crm.models.mixins import utcnow
from crm.services import PermissionDenied, jobs
from crm.services.conversion import AlreadyConverted, convert_deal_to_lead, convert_deals_to_leads
from crm.services.editing import restore_record
from tests.conftest import user


def deal_with_children(owner: User | None = None) -> Deal:
    """A deal with custom values, two notes, an email, an upcoming and a done activity."""
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == owner.id).limit(1)) if owner else db.session.get(Deal, 1)
    deal.custom = {"fleet_size": 40}
    db.session.execute(Activity.__table__.delete().where(Activity.deal_id == deal.id))
    db.session.execute(Note.__table__.delete().where(Note.deal_id == deal.id))
    db.session.execute(EmailMessage.__table__.delete().where(EmailMessage.deal_id == deal.id))
    now = utcnow()
    db.session.add_all([
        Note(deal_id=deal.id, body="Wants 40 vans"), Note(deal_id=deal.id, body="Budget approved"),
        EmailMessage(deal_id=deal.id, subject="Quote", body="Attached"),
        Activity(deal_id=deal.id, subject="Demo visit", due_at=now + timedelta(days=3), done=False),
        Activity(deal_id=deal.id, subject="Intro call", due_at=now - timedelta(days=3), done=True),
    ])
    db.session.commit()
    return deal


def children(model, **where) -> list:
    return db.session.scalars(select(model).filter_by(**where)).all()


def test_a_converted_deal_becomes_a_lead_with_its_title_value_links_and_custom_values(app, admin):
    deal = deal_with_children()
    expected = (deal.title, deal.value, deal.contact_id, deal.organization_id)
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    assert (lead.title, lead.value, lead.contact_id, lead.organization_id) == expected
    assert lead.custom == {"fleet_size": 40}
    assert (lead.source, lead.owner_id, lead.origin_deal_id) == ("Deal", admin.id, deal.id)
    assert lead.status.kind == "open"
    assert lead.person_name == deal.contact.name and lead.company_name == deal.organization.name


def test_notes_emails_and_open_activities_follow_the_lead_and_done_ones_stay(app, admin):
    deal = deal_with_children()
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    assert sorted(n.body for n in children(Note, lead_id=lead.id)) == ["Budget approved", "Wants 40 vans"]
    assert [e.subject for e in children(EmailMessage, lead_id=lead.id)] == ["Quote"]
    assert [a.subject for a in children(Activity, lead_id=lead.id)] == ["Demo visit"]
    assert [a.subject for a in children(Activity, deal_id=deal.id)] == ["Intro call"]
    assert children(Note, deal_id=deal.id) == []


def test_the_deal_goes_to_the_trash_and_restoring_it_brings_it_back_to_its_stage(app, admin):
    deal = deal_with_children()
    pipeline_id, stage_id = deal.pipeline_id, deal.stage_id
    convert_deal_to_lead(db.session, deal, admin)
    db.session.commit()
    assert deal.deleted_at is not None
    restore_record(db.session, deal, admin)
    db.session.commit()
    deal = db.session.get(Deal, deal.id)
    assert deal.deleted_at is None and (deal.pipeline_id, deal.stage_id) == (pipeline_id, stage_id)


def test_converting_the_same_deal_twice_creates_one_lead(app, admin):
    deal = deal_with_children()
    first = convert_deal_to_lead(db.session, deal, admin)
    db.session.commit()
    second = convert_deal_to_lead(db.session, db.session.get(Deal, deal.id), admin)
    db.session.commit()
    assert first.created and not second.created and first.lead.id == second.lead.id
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id == deal.id)) == 1
    assert len(children(Note, lead_id=first.lead.id)) == 2


def test_a_double_posted_conversion_creates_one_lead(client, auth, admin):
    deal = deal_with_children()
    auth.login()
    first = client.post(f"/deals/{deal.id}/convert-to-lead")
    second = client.post(f"/deals/{deal.id}/convert-to-lead")
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id == deal.id)) == 1


def test_the_lead_timeline_links_to_the_deal_which_shows_in_trash_with_restore(client, auth):
    deal = deal_with_children()
    auth.login()
    response = client.post(f"/deals/{deal.id}/convert-to-lead")
    lead_page = client.get(response.location).get_data(as_text=True)
    assert "converted: from deal" in lead_page and "Admin" in lead_page
    assert f'href="/deals/{deal.id}"' in lead_page
    deal_page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "is in the trash" in deal_page and ">Restore</button>" in deal_page
    assert "converted: to lead" in deal_page


def test_the_deal_page_offers_convert_to_lead_in_its_menu(client, auth):
    auth.login()
    page = client.get("/deals/1").get_data(as_text=True)
    assert 'aria-label="More actions"' in page and "Convert to lead" in page


def test_convert_to_lead_on_the_deal_page_asks_first_and_names_the_new_owner(client, auth):
    deal = db.session.get(Deal, 1)
    auth.login()
    page = client.get("/deals/1").get_data(as_text=True)
    assert 'href="/deals/1/convert-to-lead"' in page and 'action="/deals/1/convert-to-lead"' not in page
    question = client.get("/deals/1/convert-to-lead")
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "<html" in text
    assert f"Convert “{deal.title}” to a lead?" in text and "owned by you, Admin" in text
    assert '<button type="submit" class="primary">Convert to lead</button>' in text and ">Cancel</a>" in text
    fragment = client.get("/deals/1/convert-to-lead", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and f"Convert “{deal.title}” to a lead?" in fragment
    db.session.expire_all()
    assert db.session.get(Deal, 1).deleted_at is None  # asking converts nothing
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id == 1)) == 0
    response = client.post("/deals/1/convert-to-lead")
    assert response.status_code == 303 and response.location.startswith("/leads/")


def test_a_user_without_the_permission_gets_403_and_no_menu_entry(client, auth):
    rep = user("rep1@example.com")
    rep.can_convert_deals = False
    db.session.commit()
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == rep.id).limit(1))
    auth.login("rep1@example.com")
    assert "Convert to lead" not in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert client.get(f"/deals/{deal.id}/convert-to-lead").status_code == 403
    assert client.post(f"/deals/{deal.id}/convert-to-lead").status_code == 403
    assert client.post("/deals/convert-to-lead", data={"ids": str(deal.id), "confirm": "1", "count": "1"}).status_code == 403
    assert db.session.get(Deal, deal.id).deleted_at is None


def test_an_admin_may_convert_even_without_the_flag(app, admin):
    admin.can_convert_deals = False
    assert convert_deal_to_lead(db.session, db.session.get(Deal, 1), admin).created


@pytest.mark.parametrize("scope", ["global", "team"])
def test_conversion_is_hidden_and_refused_when_leads_are_switched_off(client, auth, scope):
    rep = user("rep1@example.com")
    if scope == "global":
        db.session.merge(Setting(key="use_leads", value="no"))
    else:
        db.session.get(Team, rep.team_id).leads_enabled = False
    db.session.commit()
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == rep.id).limit(1))
    auth.login("rep1@example.com")
    assert "Convert to lead" not in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "Move to leads" not in client.get("/pipeline").get_data(as_text=True)
    assert client.post(f"/deals/{deal.id}/convert-to-lead").status_code == 403
    moved = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "lead"},
                        headers={"Accept": "application/json"})
    assert moved.status_code == 403 and db.session.get(Deal, deal.id).deleted_at is None
    with pytest.raises(PermissionDenied):
        convert_deal_to_lead(db.session, deal, rep)


def test_a_rep_cannot_convert_a_teammates_deal(client, auth):
    rep, mate = user("rep1@example.com"), user("rep2@example.com")
    deal = db.session.scalar(select(Deal).where(Deal.owner_id == mate.id).limit(1))
    with pytest.raises(PermissionDenied):
        convert_deal_to_lead(db.session, deal, rep)


def test_the_list_selection_is_confirmed_then_exactly_those_deals_are_converted(client, auth):
    auth.login()
    picked = ["2", "5", "7"]
    confirm = client.post("/deals/convert-to-lead", data={"type": "deal", "ids": picked})
    assert confirm.status_code == 200 and "Convert 3 deals" in confirm.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Deal.id)).where(Deal.deleted_at.is_not(None))) == 0
    done = client.post("/deals/convert-to-lead", data={"ids": ",".join(picked), "confirm": "1", "count": "3"})
    assert done.status_code == 303
    converted = db.session.scalars(select(Lead.origin_deal_id).where(Lead.source == "Deal")).all()
    assert sorted(converted) == [2, 5, 7]
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.action == "convert")) == 1


def test_the_deals_list_offers_convert_to_lead_for_its_selection(client, auth):
    auth.login()
    page = client.get("/deals/").get_data(as_text=True)
    assert 'form="selection" formaction="/deals/convert-to-lead" formmethod="post"' in page
    rep = user("rep1@example.com")
    rep.can_convert_deals = False
    db.session.commit()
    auth.logout()
    auth.login("rep1@example.com")
    assert "Convert to lead" not in client.get("/deals/").get_data(as_text=True)


def test_a_filter_result_that_changed_since_the_confirmation_is_not_converted(client, auth):
    auth.login()
    rep = user("rep1@example.com")
    count = db.session.scalar(select(func.count(Deal.id)).where(Deal.owner_id == rep.id))
    response = client.post("/deals/convert-to-lead", data={"owner": str(rep.id), "all": "1", "confirm": "1",
                                                           "count": str(count + 1)})
    assert response.status_code == 200 and f"now holds {count} deals, not {count + 1}" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.source == "Deal")) == 0


def test_converting_without_a_selection_converts_nothing(client, auth):
    auth.login()
    response = client.post("/deals/convert-to-lead", data={"type": "deal", "confirm": "1"})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.source == "Deal")) == 0


def test_the_filter_result_is_converted_with_select_all(client, auth):
    rep = user("rep1@example.com")
    expected = db.session.scalars(select(Deal.id).where(Deal.owner_id == rep.id)).all()
    auth.login()
    client.post("/deals/convert-to-lead", data={"owner": str(rep.id), "all": "1", "confirm": "1",
                                                "count": str(len(expected))})
    converted = db.session.scalars(select(Lead.origin_deal_id).where(Lead.source == "Deal")).all()
    assert sorted(converted) == sorted(expected) and expected


def add_deals(n: int, owner: User) -> list[int]:
    stage = db.session.scalar(select(Stage).limit(1))
    now = utcnow()
    rows = [dict(title=f"Bulk deal {i}", value=Decimal(1000 + i), currency="EUR", pipeline_id=stage.pipeline_id,
                 stage_id=stage.id, owner_id=owner.id, team_id=owner.team_id, custom={}, source="Import",
                 email="", phone="", description="", address="", city="", country="",
                 created_at=now, updated_at=now) for i in range(n)]
    db.session.execute(insert(Deal), rows)
    ids = db.session.scalars(select(Deal.id).where(Deal.title.like("Bulk deal %")).order_by(Deal.id)).all()
    db.session.execute(insert(Note), [dict(deal_id=i, body="bulk note", created_at=now) for i in ids])
    db.session.commit()
    return ids


def test_a_bulk_of_5000_deals_runs_as_a_job_with_progress_and_notification(app, client, auth, admin, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", tmp_path / "outbox.log")
    steps = []
    real_progress = jobs.progress
    monkeypatch.setattr(jobs, "progress", lambda session, job, done, message="": (
        steps.append(done), real_progress(session, job, done, message)))
    ids = add_deals(5000, admin)
    auth.login()
    response = client.post("/deals/convert-to-lead", data={"q": "Bulk deal", "all": "1", "confirm": "1", "count": "5000"})
    assert response.status_code == 303 and "/jobs/" in response.location
    job = db.session.scalar(select(Job).order_by(Job.created_at.desc()).limit(1))
    assert (job.status, job.done, job.total) == ("done", 5000, 5000)
    assert steps == [1000, 2000, 3000, 4000, 5000]  # one committed chunk at a time
    assert "5,000 deals converted" in job.message
    assert "5,000 deals converted" in (tmp_path / "outbox.log").read_text()
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id.in_(ids))) == 5000
    assert db.session.scalar(select(func.count(Note.id)).where(Note.body == "bulk note", Note.lead_id.is_not(None))) == 5000
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == admin.id)) == 1
    feed = db.session.scalars(select(HistoryEvent).where(HistoryEvent.record_type == "batch")).all()
    assert len(feed) == 1 and "5,000 deals" in feed[0].new
    page = client.get(response.location).get_data(as_text=True)
    assert "100%" in page


def test_a_bulk_conversion_skips_deals_already_converted(app, admin):
    ids = add_deals(30, admin)
    convert_deals_to_leads(db.session, ids[:10], admin)
    result = convert_deals_to_leads(db.session, ids, admin)
    db.session.commit()
    assert (result.converted, result.skipped) == (20, 10)
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id.in_(ids))) == 30


def simultaneously(engine, work, n: int = 2) -> list[str]:
    """Run `work(session)` in n threads released together, each in its own session and transaction.

    Returns each outcome: what work returned (after commit), "already" for AlreadyConverted or
    a created=False result, else the error's repr.
    """
    barrier, outcomes = threading.Barrier(n), []

    def run():
        with Session(engine) as session:
            barrier.wait()
            try:
                outcome = work(session)
                session.commit()
            except AlreadyConverted:
                session.rollback()
                outcome = "already"
            except Exception as error:  # surfaced by the caller's assertion
                outcome = repr(error)
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_simultaneous_deal_conversions_create_one_lead(app, admin):
    deal_id, admin_id = deal_with_children().id, admin.id

    def convert(session):
        result = convert_deal_to_lead(session, session.get(Deal, deal_id), session.get(User, admin_id))
        return "converted" if result.created else "already"

    assert sorted(simultaneously(db.engine, convert)) == ["already", "converted"]
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id == deal_id)) == 1
    assert db.session.scalar(select(func.count(Note.id)).where(Note.body == "Wants 40 vans")) == 1
