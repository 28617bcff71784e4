"""Mass change drawer: reassign, change stage/status and delete, on a filter or on a selection."""
import re

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Batch, Deal, HistoryEvent, Lead, LeadStatus, Stage, User
from crm.services import DomainError, PermissionDenied
from crm.services import bulk
from crm.services.filters import parse_filter
from crm.services.record_types import DEAL, LEAD
from tests.conftest import user

HX = {"HX-Request": "true"}


def uid(email: str) -> int:
    return user(email).id


def lead_ids(*where) -> list[int]:
    return sorted(db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None), *where)))


def selection(viewer, rtype=LEAD, select_all=True, skip=(), **args) -> bulk.Selection:
    from werkzeug.datastructures import MultiDict
    flt = parse_filter(db.session, rtype, MultiDict(args), viewer)
    return bulk.Selection.build(rtype, flt, viewer, select_all=select_all, skip_owners=frozenset(skip))


ACTION_FIELDS = {"action", "confirm", "count", "pinned", "new_owner", "new_stage"}


def apply(client, headers=None, **form):
    """POST the drawer's confirmation form as the browser would: with the count it showed and,
    when a count is given, the fingerprint of the set it showed (opened just before)."""
    if "count" in form and "pinned" not in form:
        form["pinned"] = pinned_set(client, {k: v for k, v in form.items() if k not in ACTION_FIELDS})
    return client.post("/bulk/apply", data=form, headers=headers or {})


def pinned_set(client, selection_args: dict) -> str:
    """The fingerprint the drawer shows for a selection."""
    page = client.get("/bulk/drawer", query_string=selection_args).get_data(as_text=True)
    match = re.search(r'name="pinned" value="([^"]*)"', page)
    return match.group(1) if match else ""


def batch_events(batch_id: str, field: str | None = None) -> list[HistoryEvent]:
    stmt = select(HistoryEvent).where(HistoryEvent.batch_id == batch_id, HistoryEvent.record_type != "batch")
    if field:
        stmt = stmt.where(HistoryEvent.field == field)
    return db.session.scalars(stmt.order_by(HistoryEvent.record_id)).all()


def assert_consistent_with_history(record_ids, field="owner_id"):
    """Each record's value equals the `new` of its latest event on that field."""
    for rid in record_ids:
        last = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.record_type == "lead", HistoryEvent.record_id == rid, HistoryEvent.field == field)
            .order_by(HistoryEvent.id.desc()).limit(1)).first()
        lead = db.session.get(Lead, rid)
        if last is not None:
            assert str(getattr(lead, field)) == last.new, (rid, getattr(lead, field), last.new)


# --- reassign ---------------------------------------------------------------------------------

def test_reassign_on_a_filter_changes_exactly_the_previewed_set(app, admin, auth, client):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    sel = selection(admin, owner=str(ana))
    previewed = sorted(db.session.scalars(select(Lead.id).where(*sel.conditions())))
    shown = bulk.preview(db.session, sel).total
    assert shown == len(previewed) > 0
    auth.login()
    response = apply(client, type="lead", all="1", owner=str(ana), action="reassign", confirm="REASSIGN",
                     count=str(shown), new_owner=f"user:{lars}")
    assert response.status_code == 303
    batch = db.session.scalars(select(Batch).order_by(Batch.at.desc())).first()
    changed = [e.record_id for e in batch_events(batch.id, "owner_id")]
    assert changed == previewed
    assert lead_ids(Lead.owner_id == ana) == []
    assert set(previewed) <= set(lead_ids(Lead.owner_id == lars))


def test_reassign_writes_one_history_event_per_record_with_the_batch(app, admin):
    ana, hugo = user("rep1@example.com"), user("rep4@example.com")
    ids = lead_ids(Lead.owner_id == ana.id)
    outcome = bulk.reassign(db.session, selection(admin, owner=str(ana.id)), f"user:{hugo.id}", expected=len(ids))
    db.session.commit()
    owner_events = batch_events(outcome.batch.id, "owner_id")
    assert [(e.record_id, e.old, e.new, e.actor_id) for e in owner_events] == \
        [(i, str(ana.id), str(hugo.id), admin.id) for i in ids]
    team_events = batch_events(outcome.batch.id, "team_id")  # team follows owner: North -> South
    assert [(e.record_id, e.old, e.new) for e in team_events] == [(i, str(ana.team_id), str(hugo.team_id)) for i in ids]
    assert all(db.session.get(Lead, i).team_id == hugo.team_id for i in ids)
    assert outcome.batch.count == len(ids)
    assert outcome.message == f"Reassigned {len(ids)} leads to Hugo Martin."


def test_reassign_writes_one_feed_entry_for_the_batch(app, admin):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    n = len(lead_ids(Lead.owner_id == ana))
    outcome = bulk.reassign(db.session, selection(admin, owner=str(ana)), f"user:{lars}", expected=n)
    db.session.commit()
    feed = db.session.scalars(select(HistoryEvent).where(HistoryEvent.batch_id == outcome.batch.id,
                                                         HistoryEvent.record_type == "batch")).all()
    assert [e.new for e in feed] == [f"Admin reassigned {n} leads to Lars Berg"]


def test_record_timeline_shows_the_mass_change(app, admin, auth, client):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    lead_id = lead_ids(Lead.owner_id == ana)[0]
    outcome = bulk.reassign(db.session, selection(admin, select_all=False, ids=str(lead_id)), f"user:{lars}", expected=1)
    db.session.commit()
    auth.login()
    page = client.get(f"/leads/{lead_id}").text
    assert "owner changed from Ana Ruiz to Lars Berg (mass change by Admin)" in page
    assert f"/bulk/{outcome.batch.id}" in page


def test_records_that_already_have_the_owner_are_left_untouched(app, admin):
    ana = uid("rep1@example.com")
    n = len(lead_ids(Lead.owner_id == ana))
    outcome = bulk.reassign(db.session, selection(admin, owner=str(ana)), f"user:{ana}", expected=n)
    assert (outcome.changed, outcome.batch) == (0, None)
    assert "already belonged to Ana Ruiz" in outcome.message
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_reassign_by_pool_spreads_records_per_record(app, admin):
    from crm.models.pools import Pool, PoolMember
    ana, lars = user("rep1@example.com"), user("rep2@example.com")
    pool = Pool(name="North inbound", record_type="lead")
    db.session.add(pool)
    db.session.flush()
    db.session.add_all([PoolMember(pool_id=pool.id, user_id=ana.id, position=0),
                        PoolMember(pool_id=pool.id, user_id=lars.id, position=1)])
    db.session.flush()
    hugo = uid("rep4@example.com")
    ids = lead_ids(Lead.owner_id == hugo)
    outcome = bulk.reassign(db.session, selection(admin, owner=str(hugo)), f"pool:{pool.id}", expected=len(ids))
    db.session.commit()
    owners = [db.session.get(Lead, i).owner_id for i in ids]
    assert set(owners) == {ana.id, lars.id} and abs(owners.count(ana.id) - owners.count(lars.id)) <= 1
    assert all(db.session.get(Lead, i).team_id == ana.team_id for i in ids)
    assert {e.new for e in batch_events(outcome.batch.id, "owner_id")} == {str(ana.id), str(lars.id)}


# --- change stage / status ----------------------------------------------------------------------

def test_change_status_of_ticked_leads(app, admin, auth, client):
    contacted = db.session.scalar(select(LeadStatus).where(LeadStatus.name == "Contacted"))
    ids = lead_ids(Lead.status_id != contacted.id)[:3]
    auth.login()
    response = apply(client, type="lead", ids=",".join(map(str, ids)), action="change", confirm="CHANGE",
                     count="3", new_stage=str(contacted.id))
    assert response.status_code == 303
    assert all(db.session.get(Lead, i).status_id == contacted.id for i in ids)
    batch = db.session.scalars(select(Batch)).one()
    assert batch.summary == "Admin changed the status of 3 leads to Contacted"
    assert [e.record_id for e in batch_events(batch.id, "status_id")] == ids


def test_change_stage_of_deals_moves_them_to_the_stage_pipeline(app, admin):
    renewed = db.session.scalar(select(Stage).where(Stage.name == "In talks"))
    sel = selection(admin, DEAL)
    n = bulk.preview(db.session, sel).total
    outcome = bulk.change_stage(db.session, sel, renewed.id, expected=n)
    db.session.commit()
    deals = db.session.scalars(select(Deal)).all()
    assert {(d.stage_id, d.pipeline_id) for d in deals} == {(renewed.id, renewed.pipeline_id)}
    moved = {e.record_id for e in batch_events(outcome.batch.id, "pipeline_id")}
    assert moved and moved < {d.id for d in deals}  # only deals that were in another pipeline


def test_contacts_have_no_stage_to_change(app, admin):
    from crm.services.record_types import CONTACT
    with pytest.raises(DomainError, match="no stage or status"):
        bulk.change_stage(db.session, selection(admin, CONTACT), 1, expected=None)


# --- delete -------------------------------------------------------------------------------------

def test_delete_moves_the_selection_to_the_trash(app, admin, auth, client):
    ids = lead_ids()[:4]
    auth.login()
    response = apply(client, type="lead", ids=[str(i) for i in ids], action="delete", confirm="DELETE", count="4")
    assert response.status_code == 303
    leads = [db.session.get(Lead, i) for i in ids]
    batch = db.session.scalars(select(Batch)).one()
    assert all(lead.deleted_at and lead.deleted_batch_id == batch.id for lead in leads)
    assert [(e.record_id, e.kind) for e in batch_events(batch.id)] == [(i, "delete") for i in ids]
    assert client.get("/trash?type=lead").text.count("Restore") >= 4


def test_delete_is_admin_only(app, manager, auth, client):
    ids = lead_ids(Lead.team_id == manager.team_id)[:2]
    auth.login("manager@example.com")
    response = apply(client, type="lead", ids=",".join(map(str, ids)), action="delete", confirm="DELETE", count="2")
    assert response.status_code == 403
    assert "Yes, delete" not in client.get("/bulk/drawer", query_string={"type": "lead", "all": "1"}).text
    assert lead_ids(Lead.id.in_(ids)) == ids


# --- confirmation, re-count, errors --------------------------------------------------------------

@pytest.mark.parametrize("word", ["", "reassign", "REASIGN", "DELETE"])
def test_wrong_confirmation_word_changes_nothing(app, auth, client, word):
    lars = uid("rep2@example.com")
    before = lead_ids(Lead.owner_id == lars)
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", action="reassign", confirm=word, count="40",
                     new_owner=f"user:{lars}")
    assert response.status_code == 422
    assert "Type REASSIGN to confirm" in response.text and "Nothing was changed" in response.text
    assert "<html" not in response.text
    assert lead_ids(Lead.owner_id == lars) == before
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_a_changed_set_shows_the_new_count_and_asks_again(app, admin, auth, client):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    seen = len(lead_ids(Lead.owner_id == ana))
    newcomer = lead_ids(Lead.owner_id == lars)[0]
    db.session.execute(update(Lead).where(Lead.id == newcomer).values(owner_id=ana))  # someone else edits
    db.session.commit()
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", owner=str(ana), action="reassign",
                     confirm="REASSIGN", count=str(seen), new_owner=f"user:{lars}")
    assert response.status_code == 409
    assert f"it now holds {seen + 1} leads (you confirmed {seen})" in response.text
    assert f'name="count" value="{seen + 1}"' in response.text
    assert len(lead_ids(Lead.owner_id == ana)) == seen + 1


def test_missing_count_is_treated_as_a_changed_set(app, auth, client):
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", action="delete", confirm="DELETE")
    assert response.status_code == 409
    assert len(lead_ids()) == 40


def test_empty_selection_changes_nothing(app, auth, client):
    auth.login()
    drawer = client.get("/bulk/drawer", query_string={"type": "lead"}, headers=HX)
    assert "Nothing to change" in drawer.text and "Yes, reassign" not in drawer.text
    response = apply(client, headers=HX, type="lead", action="delete", confirm="DELETE", count="0")
    assert response.status_code == 422
    assert "the set is empty" in response.text


def test_inactive_owner_is_refused(app, admin, auth, client):
    lars = user("rep2@example.com")
    lars.active = False
    db.session.commit()
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", action="reassign", confirm="REASSIGN",
                     count="40", new_owner=f"user:{lars.id}")
    assert response.status_code == 422
    assert "Lars Berg is inactive" in response.text
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_unknown_type_is_a_bad_request(app, auth, client):
    auth.login()
    assert client.get("/bulk/drawer?type=widget&all=1").status_code == 400


def test_filter_errors_block_the_drawer(app, auth, client):
    auth.login()
    response = client.get("/bulk/drawer", query_string={"type": "lead", "all": "1", "owner": "bogus"}, headers=HX)
    assert "Unknown owner &#39;bogus&#39;" in response.text
    assert "Yes, reassign" not in response.text


def test_filter_with_quotes_and_percent_signs_changes_only_its_matches(app, admin, auth, client):
    ids = lead_ids()[:3]
    titles = ["O'Brien \"fleet\" 100% rollout", "O'Brien fleet 1000 rollout", "Plain 100 rollout"]
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    for i, title in zip(ids, titles):
        db.session.execute(update(Lead).where(Lead.id == i).values(title=title, owner_id=ana))
    db.session.commit()
    auth.login()
    drawer = client.get("/bulk/drawer", query_string={"type": "lead", "all": "1", "q": "O'Brien 100%"}, headers=HX)
    assert "1 lead</strong>" in drawer.text
    response = apply(client, type="lead", all="1", q="O'Brien 100%", action="reassign", confirm="REASSIGN",
                     count="1", new_owner=f"user:{lars}")
    assert response.status_code == 303
    batch = db.session.scalars(select(Batch)).one()
    assert [e.record_id for e in batch_events(batch.id, "owner_id")] == [ids[0]]
    assert [db.session.get(Lead, i).owner_id for i in ids] == [lars, ana, ana]


# --- permissions and the selection ----------------------------------------------------------------

@pytest.mark.parametrize("method,url", [("get", "/bulk/drawer"), ("post", "/bulk/drawer"), ("post", "/bulk/apply")])
def test_a_rep_gets_403_even_posting_by_hand(app, auth, client, method, url):
    auth.login("rep1@example.com")
    own = lead_ids(Lead.owner_id == uid("rep1@example.com"))
    data = {"type": "lead", "ids": ",".join(map(str, own)), "action": "reassign", "confirm": "REASSIGN",
            "count": str(len(own)), "new_owner": f"user:{uid('rep1@example.com')}"}
    response = client.get(url, query_string=data) if method == "get" else client.post(url, data=data)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_a_rep_does_not_see_the_mass_change_button(app, auth, client):
    auth.login("rep1@example.com")
    assert "data-bulk-button" not in client.get("/leads/").text
    auth.logout()
    auth.login("manager@example.com")
    assert "data-bulk-button" in client.get("/leads/").text


def test_ticked_ids_the_manager_cannot_change_are_ignored_and_reported(app, manager, auth, client):
    ours = lead_ids(Lead.team_id == manager.team_id)[:3]
    theirs = lead_ids(Lead.team_id != manager.team_id)[:2]
    ids = ",".join(map(str, ours + theirs + [999999]))
    auth.login("manager@example.com")
    drawer = client.post("/bulk/drawer", data={"type": "lead", "ids": ids}, headers=HX)
    assert "3 leads</strong>" in drawer.text
    assert "3 of the 6 ticked records are left out" in drawer.text
    lars = uid("rep2@example.com")
    response = apply(client, headers=HX, type="lead", ids=ids, action="reassign", confirm="REASSIGN", count="3",
                     new_owner=f"user:{lars}")
    assert "3 ticked records you cannot change (or no longer matching) were left out." in response.text
    assert all(db.session.get(Lead, i).owner_id == lars for i in ours)
    assert all(db.session.get(Lead, i).owner_id != lars for i in theirs)


def test_a_manager_cannot_reassign_to_someone_outside_the_team(app, auth, client):
    hugo = uid("rep4@example.com")
    before = lead_ids(Lead.owner_id == hugo)
    auth.login("manager@example.com")
    response = apply(client, headers=HX, type="lead", all="1", action="reassign", confirm="REASSIGN",
                     count="0", new_owner=f"user:{hugo}")
    assert response.status_code == 422
    assert "Hugo Martin is not in your team" in response.text
    assert lead_ids(Lead.owner_id == hugo) == before


def test_a_manager_with_all_matching_changes_only_the_team(app, manager):
    sel = selection(manager)
    n = bulk.preview(db.session, sel).total
    assert n == len(lead_ids(Lead.team_id == manager.team_id))
    bulk.reassign(db.session, sel, f"user:{manager.id}", expected=n)
    db.session.commit()
    south = db.session.scalar(select(User.team_id).where(User.email == "rep4@example.com"))
    assert manager.id not in {db.session.get(Lead, i).owner_id for i in lead_ids(Lead.team_id == south)}


def test_leaving_an_owner_out_skips_their_records(app, admin, auth, client):
    ana, lars, hugo = uid("rep1@example.com"), uid("rep2@example.com"), uid("rep4@example.com")
    theirs = lead_ids(Lead.owner_id == ana)
    auth.login()
    drawer = client.post("/bulk/drawer", data={"type": "lead", "all": "1", "skip_owner": str(ana)}, headers=HX)
    assert f"{40 - len(theirs)} leads</strong>" in drawer.text
    response = apply(client, type="lead", all="1", skip_owner=str(ana), action="reassign", confirm="REASSIGN",
                     count=str(40 - len(theirs)), new_owner=f"user:{hugo}")
    assert response.status_code == 303
    assert lead_ids(Lead.owner_id == ana) == theirs
    assert lead_ids(Lead.owner_id == lars) == []


def test_opening_the_drawer_by_post_changes_nothing(app, auth, client):
    ids = lead_ids()
    auth.login()
    response = client.post("/bulk/drawer", data={"type": "lead", "ids": ",".join(map(str, ids)),
                                                 "action": "delete", "confirm": "DELETE", "count": "40"}, headers=HX)
    assert response.status_code == 200
    assert "40 leads</strong>" in response.text and "<html" not in response.text
    assert lead_ids() == ids
    assert db.session.scalar(select(func.count(Batch.id))) == 0


def test_thousands_of_posted_ids_open_the_drawer(app, auth, client):
    ids = lead_ids()[:5] + list(range(100_000, 140_000))  # more than SQLite's bind-parameter limit
    auth.login()
    response = client.post("/bulk/drawer", data={"type": "lead", "ids": ",".join(map(str, ids))}, headers=HX)
    assert response.status_code == 200
    assert "5 leads</strong>" in response.text
    assert "40,000 of the 40,005 ticked records are left out" in response.text


def test_drawer_lists_owners_and_statuses(app, auth, client):
    auth.login()
    response = client.get("/bulk/drawer", query_string={"type": "lead", "all": "1"}, headers=HX)
    text = response.text
    assert "<html" not in text and 'id="bulk-drawer"' in text
    assert "By current owner" in text and "Ana Ruiz" in text and "By status" in text
    assert "Type REASSIGN to confirm" in text and "Type CHANGE to confirm" in text and "Type DELETE to confirm" in text
    assert "Reassign 40 leads from any owner to" in text


def test_choosing_an_owner_states_exactly_what_will_happen(app, auth, client):
    ana = uid("rep1@example.com")
    auth.login()
    response = client.post("/bulk/drawer", headers=HX, data={"type": "lead", "all": "1", "action": "reassign",
                                                             "new_owner": f"user:{ana}"})
    assert "Reassign 40 leads from any owner to <strong>Ana Ruiz</strong>" in response.text
    already = len(lead_ids(Lead.owner_id == ana))
    assert f"{already} leads already belong to Ana Ruiz and stay as they are." in response.text


def test_the_drawer_is_a_full_page_without_js(app, auth, client):
    auth.login()
    response = client.get("/bulk/drawer", query_string={"type": "deal", "all": "1"})
    assert "<html" in response.text and "By stage" in response.text and "Change stage" in response.text


def test_htmx_apply_refreshes_the_list_and_states_the_outcome(app, auth, client):
    lars = uid("rep2@example.com")
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", action="reassign", confirm="REASSIGN",
                     count="40", new_owner=f"user:{lars}")
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "records-changed"
    assert "<html" not in response.text
    assert response.text.count("leads to Lars Berg.") == 1 and 'id="messages"' not in response.text  # one message
    batch = db.session.scalar(select(Batch).order_by(Batch.at.desc()).limit(1))
    assert f'action="/bulk/{batch.id}/undo"' in response.text  # with Undo right beside it


# --- faults ----------------------------------------------------------------------------------------

class Boom(RuntimeError):
    pass


def test_a_fault_between_chunks_rolls_everything_back(app, admin):
    before = {i: db.session.get(Lead, i).owner_id for i in lead_ids()}
    calls = []

    def fault(chunk: int) -> None:
        calls.append(chunk)
        raise Boom("disk full")

    lars = uid("rep2@example.com")
    with pytest.raises(Boom):
        bulk.reassign(db.session, selection(admin), f"user:{lars}", expected=40, chunk_size=7, fault=fault)
    db.session.rollback()
    assert calls == [1]
    assert {i: db.session.get(Lead, i).owner_id for i in lead_ids()} == before
    assert db.session.scalar(select(func.count(Batch.id))) == 0
    assert db.session.scalar(select(func.count(HistoryEvent.id)).where(HistoryEvent.batch_id.is_not(None))) == 0


def test_chunks_cover_the_whole_set_exactly_once(app, admin):
    lars = uid("rep2@example.com")
    n = len(lead_ids(Lead.owner_id != lars))
    outcome = bulk.reassign(db.session, selection(admin), f"user:{lars}", expected=40, chunk_size=3)
    db.session.commit()
    events = [e.record_id for e in batch_events(outcome.batch.id, "owner_id")]
    assert len(events) == len(set(events)) == n == outcome.changed
    assert lead_ids(Lead.owner_id != lars) == []


def test_a_fault_half_way_shows_a_clear_message_and_changes_nothing(app, auth, client, monkeypatch):
    monkeypatch.setattr(bulk.engine, "CHUNK_SIZE", 5)
    monkeypatch.setattr(bulk.engine, "FAULT_HOOK", lambda chunk: (_ for _ in ()).throw(Boom("half-way")))
    before = lead_ids(Lead.deleted_at.is_(None))
    auth.login()
    response = apply(client, headers=HX, type="lead", all="1", action="delete", confirm="DELETE", count="40")
    assert response.status_code == 500
    assert "rolled back: nothing was changed" in response.text
    assert lead_ids(Lead.deleted_at.is_(None)) == before


def test_permission_checks_in_the_service_too(app, rep):
    with pytest.raises(PermissionDenied):
        bulk.reassign(db.session, selection(rep), f"user:{rep.id}", expected=None)


@pytest.mark.parametrize("plural", ["contacts", "organizations"])
def test_contacts_and_organizations_can_be_reassigned_and_deleted(app, auth, client, plural):
    from crm.services.record_types import RECORD_TYPES
    rtype = next(t for t in RECORD_TYPES.values() if t.plural == plural)
    model, hugo = rtype.model, uid("rep4@example.com")
    ids = sorted(db.session.scalars(select(model.id).where(model.owner_id != hugo)))[:3]
    auth.login()
    drawer = client.get("/bulk/drawer", query_string={"type": rtype.name, "ids": ",".join(map(str, ids))}, headers=HX)
    assert "Type REASSIGN to confirm" in drawer.text and "Type DELETE to confirm" in drawer.text
    assert "Type CHANGE to confirm" not in drawer.text
    response = apply(client, type=rtype.name, ids=",".join(map(str, ids)), action="reassign", confirm="REASSIGN",
                     count="3", new_owner=f"user:{hugo}")
    assert response.status_code == 303
    assert [db.session.get(model, i).owner_id for i in ids] == [hugo] * 3
    response = apply(client, type=rtype.name, ids=",".join(map(str, ids)), action="delete", confirm="DELETE", count="3")
    assert response.status_code == 303
    assert all(db.session.get(model, i).deleted_at for i in ids)
    assert f"{plural.capitalize()} (3)" in client.get(f"/trash?type={rtype.name}").text


def test_trashed_records_are_not_mass_changed(app, auth, client):
    auth.login()
    response = client.get("/bulk/drawer", query_string={"type": "lead", "all": "1", "trash": "1"}, headers=HX)
    assert "Mass change works on records outside the trash" in response.text
    assert "Yes, reassign" not in response.text


def test_a_batch_page_is_for_its_team_only(app, auth, client, manager):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    north_lead = lead_ids(Lead.owner_id == ana)[0]
    outcome = bulk.reassign(db.session, selection(manager, select_all=False, ids=str(north_lead)), f"user:{lars}", expected=1)
    db.session.commit()
    auth.login("rep1@example.com")  # North, like the manager
    assert client.get(f"/bulk/{outcome.batch.id}").status_code == 200
    auth.logout()
    auth.login("rep4@example.com")  # South
    assert client.get(f"/bulk/{outcome.batch.id}").status_code == 404
