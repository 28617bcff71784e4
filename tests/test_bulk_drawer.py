"""What the mass change drawer says: one outcome with Undo beside it, the "applies to all" warning
only for "all matching", the record type's own words, honest controls without JS; and large mass
changes and bulk conversions that run as jobs tell whoever started them (bell and email)."""
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Deal, Job, Lead, Notification, Stage
from tests.conftest import user
from tests.test_bulk import apply

HX = {"HX-Request": "true"}


def drawer(client, headers=HX, **args) -> str:
    return client.post("/bulk/drawer", data=args, headers=headers).get_data(as_text=True)


def lead_ids(n: int) -> list[int]:
    return db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(n)).all()


@pytest.fixture
def outbox(app, tmp_path):
    """Mails of this test only."""
    app.config["MAIL_OUTBOX"] = str(tmp_path / "outbox.log")
    return tmp_path / "outbox.log"


def notifications(person) -> list[Notification]:
    return db.session.scalars(select(Notification).where(Notification.user_id == person.id)).all()


def test_the_applies_to_all_warning_is_only_for_all_matching_and_speaks_of_the_view(client, auth):
    auth.login()
    ids = ",".join(map(str, lead_ids(3)))
    assert "Each action below applies to all" not in drawer(client, type="lead", ids=ids)
    listed = drawer(client, type="lead", all="1")
    assert "Each action below applies to all 40 leads, not only the rows on this page of the list." in listed
    board = drawer(client, type="deal", all="1", **{"from": "board"})
    assert "not only the cards you see on the board." in board and "list page" not in board
    assert '<input type="hidden" name="from" value="board">' in board  # the wording survives a redraw


def test_leads_change_status_and_deals_change_stage(client, auth):
    auth.login()
    assert "<summary>Change status</summary>" in drawer(client, type="lead", all="1")
    assert "<summary>Change stage</summary>" in drawer(client, type="deal", all="1")
    assert "lead status)" not in drawer(client, type="lead", all="1")


def test_without_js_the_button_does_not_pretend_to_count_and_the_statement_names_the_owner(client, auth):
    auth.login()
    page = client.get("/leads/").get_data(as_text=True)
    assert ">Mass change<span data-bulk-tally hidden> (<span data-bulk-count>0</span>" in page
    lars = user("rep2@example.com")
    ids = ",".join(map(str, lead_ids(2)))
    shown = drawer(client, headers={}, type="lead", ids=ids, action="reassign", new_owner=f"user:{lars.id}")
    assert "<html" in shown and "Reassign 2 leads" in shown and "<strong>Lars Berg</strong>" in shown
    assert f'formaction="/bulk/drawer" data-js-hide>Show the change</button>' in shown


def test_a_mass_change_larger_than_the_inline_limit_runs_as_a_job_and_notifies_its_starter(
        app, client, auth, manager, admin, outbox):
    app.config["BULK_INLINE_LIMIT"] = 5
    lars = user("rep2@example.com")
    ours = db.session.scalars(select(Lead.id).where(Lead.team_id == manager.team_id, Lead.deleted_at.is_(None),
                                                    Lead.owner_id != lars.id).order_by(Lead.id).limit(8)).all()
    auth.login("manager@example.com")
    response = apply(client, headers=HX, type="lead", ids=",".join(map(str, ours)), action="reassign",
                     confirm="REASSIGN", count=str(len(ours)), new_owner=f"user:{lars.id}")
    assert response.status_code == 200 and "<html" not in response.text
    job = db.session.scalar(select(Job).where(Job.kind == "mass_change"))
    assert (job.status, job.actor_id) == ("done", manager.id)
    batch = db.session.get(Batch, job.result["batch_id"])
    assert job.link == f"/bulk/{batch.id}" and batch.count == len(ours)
    assert set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ours)))) == {lars.id}
    [note] = notifications(manager)
    assert note.text == f"Reassigned {len(ours)} leads to Lars Berg." and note.link == job.link
    assert notifications(admin) == []
    mails = outbox.read_text(encoding="utf-8")
    assert "To: manager@example.com" in mails and "Subject: Mass change done" in mails
    assert "See the changed records" in response.text


def test_a_mass_change_job_that_finds_the_set_changed_fails_and_says_so(app, client, auth, admin, outbox):
    app.config["BULK_INLINE_LIMIT"] = 5
    auth.login()
    response = apply(client, type="lead", all="1", action="delete", confirm="DELETE",
                     count="39")  # one less than the 40 there are
    job = db.session.scalar(select(Job).where(Job.kind == "mass_change"))
    assert response.status_code == 303 and response.location == f"/jobs/{job.id}"
    assert job.status == "failed" and "Nothing was changed." in job.message
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.deleted_at.is_not(None))) == 0
    assert [n.text for n in notifications(admin)] == [job.message]


@pytest.mark.parametrize("size", [4, 9])
def test_every_bulk_conversion_that_runs_as_a_job_notifies_whoever_started_it(app, client, auth, monkeypatch, size,
                                                                              outbox):
    monkeypatch.setattr("crm.pipeline.conversions.INLINE_LIMIT", 3)
    manager = user("manager@example.com")
    stage = db.session.scalar(select(Stage).order_by(Stage.id))
    deals = [Deal(title=f"Job deal {i}", pipeline_id=stage.pipeline_id, stage_id=stage.id, owner_id=manager.id,
                  team_id=manager.team_id) for i in range(size)]
    db.session.add_all(deals)
    db.session.commit()
    auth.login("manager@example.com")
    response = client.post("/deals/convert-to-lead", data={"ids": [str(d.id) for d in deals], "confirm": "1",
                                                           "count": str(size)})
    assert response.status_code == 303 and "/jobs/" in response.location
    [note] = notifications(manager)
    assert note.text == f"{size} deals converted to leads."
    assert "To: manager@example.com" in outbox.read_text(encoding="utf-8")
