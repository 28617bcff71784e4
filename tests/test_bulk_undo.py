"""The way back from a mass change: Undo (7 days), the trash with Restore, and purge-trash."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Activity, Batch, HistoryEvent, Job, Lead, LeadStatus, Note, Notification
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import bulk
from crm.services.editing import update_record
from crm.services.filters import parse_filter
from crm.services.record_types import LEAD
from crm.services.trash import purge_trash, restore_batch, undo_batch, undo_state
from tests.conftest import user


def select_leads(viewer, ids: list[int]) -> bulk.Selection:
    flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, ids))}), viewer)
    return bulk.Selection.build(LEAD, flt, viewer, select_all=False)


def leads_of(owner_id: int) -> list[int]:
    return sorted(db.session.scalars(select(Lead.id).where(Lead.owner_id == owner_id, Lead.deleted_at.is_(None))))


def snapshot(ids):
    return {i: (lead.owner_id, lead.team_id, lead.status_id, lead.deleted_at)
            for i in ids for lead in [db.session.get(Lead, i)]}


def reassign(viewer, ids, to_email) -> bulk.Outcome:
    outcome = bulk.reassign(db.session, select_leads(viewer, ids), f"user:{user(to_email).id}", expected=len(ids))
    db.session.commit()
    return outcome


# --- undo ---------------------------------------------------------------------------------------

def test_undo_restores_exactly_the_previous_owner_and_team(app, admin):
    ids = sorted(db.session.scalars(select(Lead.id)))[:12]  # several owners, both teams
    before = snapshot(ids)
    outcome = reassign(admin, ids, "rep2@example.com")
    undo = undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    assert snapshot(ids) == before
    assert db.session.get(Batch, outcome.batch.id).undone_at is not None
    undo_events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.batch_id == undo.batch.id,
                                                                HistoryEvent.field == "owner_id")).all()
    assert {e.record_id for e in undo_events} == {i for i in ids if before[i][0] != user("rep2@example.com").id}
    assert undo.batch.summary.startswith("Admin undid “Admin reassigned")


def test_undo_leaves_records_changed_since_alone_unless_insisted(app, admin):
    ana = user("rep1@example.com")
    ids = leads_of(ana.id)
    outcome = reassign(admin, ids, "rep2@example.com")
    hugo = user("rep4@example.com")
    update_record(db.session, db.session.get(Lead, ids[0]), {"owner_id": hugo.id}, admin)  # changed again
    db.session.commit()
    state = undo_state(db.session, outcome.batch, admin)
    assert (state.possible, state.records, state.changed_since) == (True, len(ids), 1)
    undo = undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    assert db.session.get(Lead, ids[0]).owner_id == hugo.id
    assert all(db.session.get(Lead, i).owner_id == ana.id for i in ids[1:])
    assert "1 lead changed again since and was left alone" in undo.message


def test_undo_them_too_restores_records_changed_since(app, admin, auth, client):
    ana = user("rep1@example.com")
    ids = leads_of(ana.id)
    outcome = reassign(admin, ids, "rep2@example.com")
    update_record(db.session, db.session.get(Lead, ids[0]), {"owner_id": user("rep4@example.com").id}, admin)
    db.session.commit()
    auth.login()
    page = client.get(f"/bulk/{outcome.batch.id}").text
    assert "Undo them too" in page and "1 of them was changed again since" in page
    response = client.post(f"/bulk/{outcome.batch.id}/undo", data={"undo_changed": "1"})
    assert response.status_code == 303
    assert leads_of(ana.id) == ids


def test_undo_of_a_status_change_puts_each_status_back(app, admin):
    contacted = db.session.scalar(select(LeadStatus.id).where(LeadStatus.name == "Contacted"))
    ids = sorted(db.session.scalars(select(Lead.id)))[:15]
    before = snapshot(ids)
    outcome = bulk.change_stage(db.session, select_leads(admin, ids), contacted, expected=15)
    db.session.commit()
    undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    assert snapshot(ids) == before


def test_undo_of_a_batch_larger_than_the_inline_limit_runs_as_a_job_and_tells_its_starter(app, admin, auth, client):
    app.config["BULK_INLINE_LIMIT"] = 5
    ids = sorted(db.session.scalars(select(Lead.id)))[:9]
    before = snapshot(ids)
    outcome = reassign(admin, ids, "rep2@example.com")
    auth.login()
    response = client.post(f"/bulk/{outcome.batch.id}/undo")
    job = db.session.scalar(select(Job).where(Job.kind == "undo"))
    assert response.status_code == 303 and response.location == f"/jobs/{job.id}"
    assert (job.status, job.actor_id, job.link) == ("done", admin.id, f"/bulk/{outcome.batch.id}")
    db.session.expire_all()
    assert snapshot(ids) == before and db.session.get(Batch, outcome.batch.id).undone_at is not None
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()
    assert note.text == job.message and note.text.endswith("back as before.")


def test_undo_puts_back_only_the_fields_each_record_had_logged(app, admin):
    """A reassign logs the team only where it changed: Undo keeps the team of the others as it is."""
    ana, lars = user("rep1@example.com"), user("rep2@example.com")
    mine = leads_of(ana.id)[:2]
    db.session.execute(update(Lead).where(Lead.id == mine[0]).values(team_id=lars.team_id))
    db.session.commit()
    before = snapshot(mine)
    outcome = reassign(admin, mine, "rep2@example.com")
    undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    assert snapshot(mine) == before


def test_undo_is_refused_after_seven_days_and_twice(app, admin):
    ids = leads_of(user("rep1@example.com").id)
    outcome = reassign(admin, ids, "rep2@example.com")
    with pytest.raises(DomainError, match="7 days"):
        undo_batch(db.session, outcome.batch.id, admin, now=utcnow() + timedelta(days=8))
    undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    with pytest.raises(DomainError, match="was undone"):
        undo_batch(db.session, outcome.batch.id, admin)


def test_a_rep_cannot_undo(app, admin, rep, auth, client):
    outcome = reassign(admin, leads_of(rep.id), "rep2@example.com")
    with pytest.raises(PermissionDenied):
        undo_batch(db.session, outcome.batch.id, rep)
    auth.login("rep1@example.com")
    assert client.post(f"/bulk/{outcome.batch.id}/undo").status_code == 403
    assert leads_of(rep.id) == []


def test_batch_page_shows_what_who_when_counts_and_records(app, admin, auth, client):
    ids = leads_of(user("rep1@example.com").id)
    outcome = reassign(admin, ids, "rep2@example.com")
    auth.login()
    page = client.get(f"/bulk/{outcome.batch.id}").text
    assert f"Admin reassigned {len(ids)} leads to Lars Berg" in page
    assert "owner changed from Ana Ruiz to Lars Berg (mass change by Admin)" in page
    assert f"Records ({len(ids)} you can see)" in page
    assert ">Undo</button>" in page
    fragment = client.get(f"/bulk/{outcome.batch.id}?page=1", headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and 'id="batch"' in fragment


# --- trash ----------------------------------------------------------------------------------------

def delete_leads(viewer, ids) -> bulk.Outcome:
    outcome = bulk.delete(db.session, select_leads(viewer, ids), expected=len(ids))
    db.session.commit()
    return outcome


def test_restore_a_deleted_batch_from_the_trash(app, admin, auth, client):
    ids = sorted(db.session.scalars(select(Lead.id)))[:5]
    outcome = delete_leads(admin, ids)
    auth.login()
    page = client.get("/trash").text
    assert outcome.batch.summary in page and "Restore batch" in page
    response = client.post(f"/trash/batches/{outcome.batch.id}/restore")
    assert response.status_code == 303
    assert all(db.session.get(Lead, i).deleted_at is None for i in ids)
    restored = db.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "restore", HistoryEvent.record_type == "lead")).all()
    assert sorted(e.record_id for e in restored) == ids


def test_restore_one_record_from_the_trash(app, admin, auth, client):
    ids = sorted(db.session.scalars(select(Lead.id)))[:3]
    delete_leads(admin, ids)
    auth.login()
    response = client.post("/trash/restore", data={"type": "lead", "id": str(ids[1])})
    assert response.status_code == 303
    assert [db.session.get(Lead, i).deleted_at is None for i in ids] == [False, True, False]


def test_undo_of_a_delete_restores_what_is_still_in_the_trash(app, admin):
    ids = sorted(db.session.scalars(select(Lead.id)))[:4]
    outcome = delete_leads(admin, ids)
    restore_batch(db.session, outcome.batch.id, admin)  # someone restored them already
    db.session.commit()
    ids2 = sorted(db.session.scalars(select(Lead.id)))[4:6]
    second = delete_leads(admin, ids2)
    db.session.execute(update(Lead).where(Lead.id == ids2[0]).values(deleted_at=None, deleted_batch_id=None))
    db.session.commit()
    undo = undo_batch(db.session, second.batch.id, admin)
    db.session.commit()
    assert db.session.get(Lead, ids2[1]).deleted_at is None
    assert undo.changed == 1 and "1 lead changed again since" in undo.message


def test_a_rep_sees_only_their_own_records_in_the_trash(app, admin, auth, client):
    ana, hugo = user("rep1@example.com"), user("rep4@example.com")
    mine, theirs = leads_of(ana.id)[:2], leads_of(hugo.id)[:2]
    delete_leads(admin, mine + theirs)
    auth.login("rep1@example.com")
    page = client.get("/trash?type=lead").text
    assert page.count("Restore</button>") == 2 and "Restore batch" not in page
    assert client.post("/trash/restore", data={"type": "lead", "id": str(theirs[0])}).status_code == 403


# --- purge ----------------------------------------------------------------------------------------

def test_purge_trash_deletes_old_trash_for_good_and_logs_it(app, admin, runner):
    ids = sorted(db.session.scalars(select(Lead.id)))[:6]
    delete_leads(admin, ids)
    old = utcnow() - timedelta(days=40)
    db.session.execute(update(Lead).where(Lead.id.in_(ids[:4])).values(deleted_at=old))
    db.session.commit()
    result = runner.invoke(args=["purge-trash", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "Purged 4 leads" in result.output
    db.session.expire_all()
    assert [db.session.get(Lead, i) is None for i in ids] == [True] * 4 + [False] * 2
    assert db.session.scalar(select(func.count(Activity.id)).where(Activity.lead_id.in_(ids[:4]))) == 0
    assert db.session.scalar(select(func.count(Note.id)).where(Note.lead_id.in_(ids[:4]))) == 0
    purged = db.session.scalars(select(HistoryEvent.record_id).where(HistoryEvent.kind == "purge", HistoryEvent.record_type == "lead")).all()
    assert sorted(purged) == ids[:4]
    assert db.session.scalar(select(Batch).where(Batch.action == "purge")).summary.startswith("System purged 4 leads")


def test_purge_trash_refuses_a_bad_age(app, runner):
    result = runner.invoke(args=["purge-trash", "--older-than", "soon"])
    assert result.exit_code != 0 and "use a number and d, h or w" in result.output


def test_purge_clears_references_from_other_records(app, admin):
    from crm.models import Contact, Deal
    from crm.services.record_types import CONTACT
    contact_id = db.session.scalar(select(Deal.contact_id).where(Deal.contact_id.is_not(None)))
    flt = parse_filter(db.session, CONTACT, MultiDict({"ids": str(contact_id)}), admin)
    bulk.delete(db.session, bulk.Selection.build(CONTACT, flt, admin, select_all=False), expected=1)
    db.session.commit()
    purge_trash(db.session, timedelta(0), now=utcnow() + timedelta(seconds=1))
    db.session.commit()
    assert db.session.get(Contact, contact_id) is None
    assert db.session.scalar(select(func.count(Deal.id)).where(Deal.contact_id == contact_id)) == 0
