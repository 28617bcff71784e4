"""History is append-only and reads as sentences; the feed shows one entry per batch."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import HistoryEvent, Lead, User
from crm.services import history
from crm.services.editing import update_record


def sentences(record_type: str, record_id: int) -> list[str]:
    events = db.session.scalars(history.timeline_select(record_type, record_id)).all()
    return [v.text for v in history.describe(db.session, events)]


def test_an_owner_change_names_both_owners(app, admin):
    lead = db.session.get(Lead, 1)
    old = lead.owner.name
    new = db.session.scalar(select(User).where(User.role == "rep", User.id != lead.owner_id))
    update_record(db.session, lead, {"owner_id": new.id}, admin)
    db.session.commit()
    assert f"owner changed from {old} to {new.name}" in sentences("lead", 1)
    assert lead.team_id == new.team_id


def test_batched_events_name_the_batch_and_the_feed_shows_one_entry(app, admin):
    batch = history.open_batch(db.session, admin.id, "reassign", "lead", 2, "Admin reassigned 2 leads to Ana Ruiz")
    for lead_id in (1, 2):
        history.log_changes(db.session, "lead", lead_id, admin.id, {"owner_id": (3, 4)}, batch_id=batch.id)
    db.session.commit()
    assert sentences("lead", 1)[0].endswith("(mass change by Admin)")
    feed = db.session.scalars(history.feed_select(admin).limit(5)).all()
    assert [e.new for e in feed if e.batch_id == batch.id] == ["Admin reassigned 2 leads to Ana Ruiz"]


def test_the_feed_filters_by_actor(client, auth, admin, rep):
    history.log(db.session, "lead", 1, rep.id, "note", new="hello")
    db.session.commit()
    auth.login()
    page = client.get(f"/activity?actor={rep.id}", headers={"HX-Request": "true"})
    assert page.status_code == 200 and b"hello" in page.data and b"<html" not in page.data
    assert b"hello" not in client.get(f"/activity?actor={admin.id}").data


def test_a_rep_does_not_see_other_teams_events_in_the_feed(app, rep):
    other = db.session.scalar(select(Lead).where(Lead.team_id != rep.team_id))
    history.log(db.session, "lead", other.id, None, "note", new="secret south note")
    db.session.commit()
    feed = db.session.scalars(history.feed_select(rep)).all()
    assert "secret south note" not in {e.new for e in feed}


def test_custom_field_changes_are_logged_with_their_key(app, admin):
    lead = db.session.get(Lead, 2)
    update_record(db.session, lead, {"custom": {"fleet": 10}}, admin)
    update_record(db.session, lead, {"custom": {"fleet": 12}}, admin)
    db.session.commit()
    assert sentences("lead", 2)[:2] == ["fleet changed from 10 to 12", "fleet set to 10"]
    assert db.session.scalar(select(HistoryEvent.field).where(HistoryEvent.record_id == 2,
                                                              HistoryEvent.kind == "update").limit(1)) == "custom.fleet"
