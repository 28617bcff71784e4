"""Undo acts on what the undoing user may change, and a batch stays undoable for what is left
(records of other teams, records left alone because they changed again since)."""
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Batch, Deal, Lead, Stage, UndoneRecord
from crm.services import bulk
from crm.services.conversion import convert_deal_to_lead
from crm.services.deal_restore import restore_one
from crm.services.editing import update_record
from crm.services.filters import parse_filter
from crm.services.record_types import DEAL, LEAD
from crm.services.trash import undo_batch, undo_state
from tests.conftest import user


def owners(ids: list[int]) -> dict[int, int]:
    db.session.expire_all()
    return {i: db.session.get(Lead, i).owner_id for i in ids}


def mass_reassign(viewer, ids: list[int], to_email: str) -> Batch:
    flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, ids))}), viewer)
    sel = bulk.Selection.build(LEAD, flt, viewer, select_all=False)
    outcome = bulk.reassign(db.session, sel, f"user:{user(to_email).id}", expected=len(ids))
    db.session.commit()
    return outcome.batch


def north_and_south_leads(n: int = 4) -> list[int]:
    north = db.session.scalars(select(Lead.id).where(Lead.team_id == user("rep1@example.com").team_id)
                               .order_by(Lead.id).limit(n)).all()
    south = db.session.scalars(select(Lead.id).where(Lead.team_id == user("rep4@example.com").team_id)
                               .order_by(Lead.id).limit(n)).all()
    return list(north) + list(south)


def test_an_undo_that_can_change_nothing_leaves_the_batch_undoable(app, admin, manager):
    """Issue 11 item 6: a manager's Undo of an admin's batch used to mark it undone, restoring nothing."""
    ids = north_and_south_leads()
    before = owners(ids)
    batch = mass_reassign(admin, ids, "rep5@example.com")  # all to South: out of the North manager's reach
    state = undo_state(db.session, batch, manager)
    moved = [i for i in ids if before[i] != user("rep5@example.com").id]
    assert not state.possible and state.records == 0 and state.hidden == len(moved)
    undo_batch(db.session, batch.id, manager)
    db.session.commit()
    assert db.session.get(Batch, batch.id).undone_at is None
    assert owners(ids) == {i: user("rep5@example.com").id for i in ids}
    undo_batch(db.session, batch.id, admin)
    db.session.commit()
    assert owners(ids) == before
    assert db.session.get(Batch, batch.id).undone_at is not None


def test_a_mixed_batch_undone_by_a_manager_stays_undoable_for_the_other_team(app, admin, manager, auth, client):
    ids = north_and_south_leads()
    before = owners(ids)
    north_ids = [i for i in ids if db.session.get(Lead, i).team_id == manager.team_id]
    batch = mass_reassign(admin, ids, "manager@example.com")  # every lead to North's manager...
    south_ids = [i for i in ids if i not in north_ids]
    # ...then the South ones are handed on to a South rep by hand: they left the manager's reach.
    for i in south_ids:
        update_record(db.session, db.session.get(Lead, i), {"owner_id": user("rep4@example.com").id}, admin)
    db.session.commit()

    outcome = undo_batch(db.session, batch.id, manager)
    db.session.commit()
    assert owners(north_ids) == {i: before[i] for i in north_ids}
    assert all(owners(south_ids)[i] == user("rep4@example.com").id for i in south_ids)
    assert db.session.get(Batch, batch.id).undone_at is None
    assert f"stays undoable for the {len(south_ids)} leads left" in outcome.message
    assert set(db.session.scalars(select(UndoneRecord.record_id).where(UndoneRecord.batch_id == batch.id))) == set(north_ids)

    state = undo_state(db.session, batch, admin)
    assert (state.possible, state.records, state.changed_since, state.undone) == (True, len(south_ids), len(south_ids), len(north_ids))
    auth.login()
    page = client.get(f"/bulk/{batch.id}").text
    assert "Partly undone" in page and "Undo them too" in page
    client.post(f"/bulk/{batch.id}/undo", data={"undo_changed": "1"})
    assert owners(ids) == before
    assert db.session.get(Batch, batch.id).undone_at is not None


def test_a_partial_undo_can_be_finished(app, admin, auth, client):
    """#12: reassign 9, edit one, Undo without "Undo them too": the one left can still be undone."""
    ana = user("rep1@example.com")
    ids = sorted(db.session.scalars(select(Lead.id).where(Lead.owner_id == ana.id)))[:9]
    assert len(ids) >= 3
    batch = mass_reassign(admin, ids, "rep2@example.com")
    update_record(db.session, db.session.get(Lead, ids[0]), {"owner_id": user("rep3@example.com").id}, admin)
    db.session.commit()
    auth.login()
    client.post(f"/bulk/{batch.id}/undo")
    assert owners(ids[1:]) == {i: ana.id for i in ids[1:]}
    assert owners(ids[:1]) == {ids[0]: user("rep3@example.com").id}
    assert db.session.get(Batch, batch.id).undone_at is None
    page = client.get(f"/bulk/{batch.id}").text
    assert "Undo them too" in page and "1 of them was changed again since" in page
    assert f"{len(ids) - 1} records put back" in page
    client.post(f"/bulk/{batch.id}/undo", data={"undo_changed": "1"})
    assert owners(ids) == {i: ana.id for i in ids}
    assert db.session.get(Batch, batch.id).undone_at is not None
    assert "was undone on" in client.get(f"/bulk/{batch.id}").text


def test_a_deal_converted_and_restored_is_not_changed_since_for_an_earlier_stage_batch(app, admin):
    """#12: only the batch's own fields count; converting and restoring leave the stage alone."""
    deals = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id).limit(3)).all()
    target = db.session.scalars(select(Stage).where(Stage.pipeline_id == deals[0].pipeline_id,
                                                    Stage.id != deals[0].stage_id)).first()
    ids = [d.id for d in deals if d.pipeline_id == deals[0].pipeline_id]
    before = {i: db.session.get(Deal, i).stage_id for i in ids}
    flt = parse_filter(db.session, DEAL, MultiDict({"ids": ",".join(map(str, ids))}), admin)
    outcome = bulk.change_stage(db.session, bulk.Selection.build(DEAL, flt, admin, select_all=False),
                                target.id, expected=len(ids))
    db.session.commit()
    deal = db.session.get(Deal, ids[0])
    convert_deal_to_lead(db.session, deal, admin)
    db.session.commit()
    restore_one(db.session, DEAL, db.session.get(Deal, ids[0]), admin)
    db.session.commit()
    state = undo_state(db.session, outcome.batch, admin)
    assert state.changed_since == 0
    undo_batch(db.session, outcome.batch.id, admin)
    db.session.commit()
    db.session.expire_all()
    assert {i: db.session.get(Deal, i).stage_id for i in ids} == before


def test_a_managers_undo_of_an_admins_batch_puts_back_only_their_team_and_the_admin_finishes(
        app, admin, manager, auth, client):
    """The issue's request, POST /bulk/<admin batch>/undo as the North manager, after the admin moved
    North and South leads to a North rep: the North ones go back; the South ones stay (a manager's
    Undo does not move records out of their team) and the batch stays undoable for them."""
    ids = north_and_south_leads()
    before = owners(ids)
    teams = {i: db.session.get(Lead, i).team_id for i in ids}
    batch = mass_reassign(admin, ids, "rep2@example.com")
    auth.login("manager@example.com")
    client.post(f"/bulk/{batch.id}/undo")
    after = owners(ids)
    assert {i: after[i] for i in ids if teams[i] == manager.team_id} == {i: before[i] for i in ids if teams[i] == manager.team_id}
    assert all(after[i] == user("rep2@example.com").id for i in ids if teams[i] != manager.team_id)
    assert db.session.get(Batch, batch.id).undone_at is None
    auth.logout()
    auth.login()
    assert "Partly undone" in client.get(f"/bulk/{batch.id}").text
    client.post(f"/bulk/{batch.id}/undo")
    assert owners(ids) == before
    assert db.session.get(Batch, batch.id).undone_at is not None


def test_a_managers_undo_of_their_import_leaves_what_moved_out_of_their_team_for_the_admin(
        app, admin, manager, auth, client):
    """Issue 11: an import's Undo acts only on what the undoing user may change. The North manager
    imports three leads; the admin then hands one to a South rep; the manager's Undo trashes the two
    still in North and leaves the South one (and the batch undoable) for the admin."""
    from tests.import_steps import run, upload  # noqa: PLC0415 (import steps only this test needs)

    auth.login("manager@example.com")
    imp = upload(client, "Title,Email,Lead Owner\nA,a@imp.se,rep1@example.com\nB,b@imp.se,rep2@example.com\n"
                         "C,c@imp.se,rep1@example.com\n")
    batch_id = run(client, imp)["batch_id"]
    created = {lead.email: lead.id for lead in db.session.scalars(select(Lead).where(Lead.email.like("%@imp.se")))}
    assert len(created) == 3
    update_record(db.session, db.session.get(Lead, created["c@imp.se"]), {"owner_id": user("rep4@example.com").id}, admin)
    db.session.commit()

    response = client.post(f"/bulk/{batch_id}/undo", follow_redirects=True)
    assert "stays undoable for the 1 lead left" in response.text
    db.session.expire_all()
    trashed = {email for email, i in created.items() if db.session.get(Lead, i).deleted_at is not None}
    assert trashed == {"a@imp.se", "b@imp.se"}
    assert db.session.get(Batch, batch_id).undone_at is None
    auth.logout()
    auth.login()
    client.post(f"/bulk/{batch_id}/undo")
    db.session.expire_all()
    assert db.session.get(Lead, created["c@imp.se"]).deleted_at is not None
    assert db.session.get(Batch, batch_id).undone_at is not None
