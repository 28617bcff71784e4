"""Lead statuses in the administration: rename, kind guard, reorder, remove with a replacement."""
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, HistoryEvent, Lead, LeadStatus
from crm.services import DomainError
from crm.services import lead_statuses
from crm.services.history import describe, feed_select
from crm.services.trash import undo_batch


def status(name: str) -> LeadStatus:
    return db.session.scalar(select(LeadStatus).where(LeadStatus.name == name))


def leads_with(s: LeadStatus | int) -> set[int]:
    sid = s if isinstance(s, int) else s.id
    return set(db.session.scalars(select(Lead.id).where(Lead.status_id == sid)))


def order() -> list[str]:
    return [s.name for s in db.session.scalars(lead_statuses.ordered())]


def admin_events(status_id: int) -> list[HistoryEvent]:
    return db.session.scalars(select(HistoryEvent).where(HistoryEvent.record_type == "lead_status",
                                                         HistoryEvent.record_id == status_id)
                              .order_by(HistoryEvent.id)).all()


def test_renaming_a_status_and_changing_its_kind_is_logged(client, auth):
    new = status("New")
    auth.login()
    response = client.post(f"/admin/statuses/{new.id}", data={"name": "Fresh", "kind": "lost"})
    assert response.status_code == 303
    db.session.refresh(new)
    assert (new.name, new.kind) == ("Fresh", "lost")
    assert {(e.field, e.old, e.new) for e in admin_events(new.id)} == {("name", "New", "Fresh"), ("kind", "open", "lost")}


def test_the_edit_page_shows_the_status_and_its_fragment_is_the_block(client, auth):
    new = status("New")
    auth.login()
    page = client.get(f"/admin/statuses/{new.id}").get_data(as_text=True)
    assert 'value="New"' in page and "Remove status “New”" in page and "<html" in page
    fragment = client.get(f"/admin/statuses/{new.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="status-page"' in fragment and "<html" not in fragment


def test_a_name_taken_by_another_status_is_refused(client, auth):
    new = status("New")
    auth.login()
    response = client.post(f"/admin/statuses/{new.id}", data={"name": "contacted", "kind": "open"})
    assert response.status_code == 422
    assert "The status “contacted” exists already." in response.get_data(as_text=True)
    db.session.refresh(new)
    assert new.name == "New"


@pytest.mark.parametrize("name, kind", [("Converted", "open"), ("Converted", "lost")])
def test_the_last_converted_status_keeps_its_kind(client, auth, name, kind):
    converted = status(name)
    auth.login()
    response = client.post(f"/admin/statuses/{converted.id}", data={"name": name, "kind": kind})
    assert response.status_code == 422
    assert "it is the only converted status" in response.get_data(as_text=True)
    db.session.refresh(converted)
    assert converted.kind == "converted"


def test_the_last_open_status_keeps_its_kind(app, admin):
    for name in ("New", "Contacted"):
        lead_statuses.update_status(db.session, admin, status(name), name, "lost")
    with pytest.raises(DomainError, match="only open status"):
        lead_statuses.update_status(db.session, admin, status("Qualified"), "Qualified", "converted")


def test_moving_a_status_up_and_down_changes_the_order_everywhere(client, auth):
    assert order() == ["New", "Contacted", "Qualified", "Unqualified", "Converted"]
    auth.login()
    qualified = status("Qualified")
    assert client.post(f"/admin/statuses/{qualified.id}/move", data={"direction": "up"}).status_code == 303
    assert order() == ["New", "Qualified", "Contacted", "Unqualified", "Converted"]
    client.post(f"/admin/statuses/{status('New').id}/move", data={"direction": "down"})
    assert order() == ["Qualified", "New", "Contacted", "Unqualified", "Converted"]
    assert [e.new for e in admin_events(qualified.id) if e.field == "position"] == ["2"]
    page = client.get("/leads/").get_data(as_text=True)
    assert page.index(">Qualified</option>") < page.index(">New</option>") < page.index(">Contacted</option>")
    admin_page = client.get("/admin/").get_data(as_text=True)
    assert "Move<span class=\"visually-hidden\"> “Qualified”</span> down" in admin_page
    assert "Move<span class=\"visually-hidden\"> “Qualified”</span> up" not in admin_page  # first: no Move up


def test_the_first_status_cannot_move_up(app, admin):
    with pytest.raises(DomainError, match="“New” is already first."):
        lead_statuses.move_status(db.session, admin, status("New"), -1)


def test_removing_a_used_status_moves_its_leads_with_history_and_one_batch(client, auth, admin):
    contacted, qualified = status("Contacted").id, status("Qualified")
    moved, already = leads_with(contacted), leads_with(qualified)
    assert moved
    auth.login()
    response = client.post(f"/admin/statuses/{contacted}/remove", data={"remove-replacement": str(qualified.id)})
    assert response.status_code == 303
    batch = db.session.scalar(select(Batch).where(Batch.action == "status_remove"))
    assert response.headers["Location"].endswith(f"/bulk/{batch.id}")
    assert db.session.get(LeadStatus, contacted) is None
    assert leads_with(qualified) == moved | already
    events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.batch_id == batch.id,
                                                           HistoryEvent.record_type == "lead")).all()
    assert {e.record_id for e in events} == moved
    assert {(e.field, e.old, e.new) for e in events} == {("status_id", str(contacted), str(qualified.id))}
    summary = f"Admin removed status “Contacted”: {len(moved)} leads moved to “Qualified”"
    assert batch.summary == summary and batch.count == len(moved)
    feed = [v.text for v in describe(db.session, db.session.scalars(feed_select(admin).limit(5)).all())]
    assert feed[0] == summary and "deleted lead status “Contacted”" not in feed
    timeline = describe(db.session, events[:1])[0].text
    assert timeline == "status changed from Contacted (removed) to Qualified (status removal by Admin)"


def test_removing_a_status_also_moves_leads_in_the_trash(app, admin):
    contacted, new = status("Contacted"), status("New")
    new_id = new.id
    trashed = next(iter(leads_with(contacted)))
    db.session.get(Lead, trashed).deleted_at = func.now()
    db.session.commit()
    lead_statuses.remove_status(db.session, admin, contacted, new)
    db.session.commit()
    assert db.session.get(Lead, trashed).status_id == new_id


def test_undo_brings_the_status_and_its_leads_back(app, admin):
    contacted, qualified = status("Contacted"), status("Qualified")
    snapshot, moved = (contacted.id, contacted.name, contacted.kind), leads_with(contacted)
    outcome = lead_statuses.remove_status(db.session, admin, contacted, qualified)
    db.session.commit()
    undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    back = db.session.get(LeadStatus, snapshot[0])
    assert (back.id, back.name, back.kind) == snapshot
    assert leads_with(back) == moved
    assert order() == ["New", "Contacted", "Qualified", "Unqualified", "Converted"]


def test_removing_an_unused_status_needs_no_replacement_and_is_one_feed_entry(client, auth, admin):
    spare = lead_statuses.add_status(db.session, admin, "Dormant", "open")
    db.session.commit()
    auth.login()
    assert client.post(f"/admin/statuses/{spare.id}/remove", data={}).status_code == 303
    assert status("Dormant") is None
    feed = [v.text for v in describe(db.session, db.session.scalars(feed_select(admin).limit(1)).all())]
    assert feed == ["deleted lead status “Dormant”"]


def test_removing_a_used_status_without_a_replacement_is_refused(client, auth):
    contacted = status("Contacted").id
    used = len(leads_with(contacted))
    auth.login()
    response = client.post(f"/admin/statuses/{contacted}/remove", data={"remove-replacement": ""})
    assert response.status_code == 422
    assert f"{used} leads use “Contacted”: choose the status they move to." in response.get_data(as_text=True)
    assert status("Contacted") is not None and len(leads_with(contacted)) == used


def test_removing_the_last_converted_status_is_refused(client, auth):
    converted, new = status("Converted"), status("New")
    auth.login()
    response = client.post(f"/admin/statuses/{converted.id}/remove", data={"remove-replacement": str(new.id)})
    assert response.status_code == 422
    assert "You cannot remove “Converted”: it is the only converted status" in response.get_data(as_text=True)
    assert status("Converted") is not None


def test_removing_the_last_open_status_is_refused(app, admin):
    lost = status("Unqualified")
    for name in ("New", "Contacted"):
        lead_statuses.remove_status(db.session, admin, status(name), lost)
    with pytest.raises(DomainError, match="only open status"):
        lead_statuses.remove_status(db.session, admin, status("Qualified"), lost)


@pytest.mark.parametrize("email", ["manager@example.com", "rep1@example.com"])
@pytest.mark.parametrize("action, data", [
    ("", {"name": "Hacked", "kind": "open"}),
    ("/move", {"direction": "down"}),
    ("/remove", {"remove-replacement": "REPLACEMENT"}),
])
def test_only_admins_may_change_statuses(client, auth, email, action, data):
    new, contacted = status("New"), status("Contacted")
    data = {k: str(contacted.id) if v == "REPLACEMENT" else v for k, v in data.items()}
    auth.login(email)
    assert client.post(f"/admin/statuses/{new.id}{action}", data=data).status_code == 403
    assert order() == ["New", "Contacted", "Qualified", "Unqualified", "Converted"]


def test_a_manager_cannot_undo_a_status_removal(client, auth, admin):
    outcome = lead_statuses.remove_status(db.session, admin, status("Contacted"), status("New"))
    db.session.commit()
    auth.login("manager@example.com")
    assert client.post(f"/bulk/{outcome.batch.id}/undo").status_code == 403
    assert status("Contacted") is None
