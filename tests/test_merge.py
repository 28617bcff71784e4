"""Merging records: who survives, which values win, nothing lost, history, permissions, undo."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import (
    Activity, Batch, Contact, CustomField, Deal, EmailMessage, HistoryEvent, Lead, LeadStatus, Note, User,
)
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services.history import describe, timeline_select
from crm.services.editing import update_record
from crm.services.merge import merge_records, survivor_key, undo_merge, undo_plan
from crm.services.trash import purge_trash

CHILDREN = (Activity, Note, EmailMessage)


def status(name: str) -> LeadStatus:
    return db.session.scalar(select(LeadStatus).where(LeadStatus.name == name))


def make_lead(owner, days_old: int = 0, **values) -> Lead:
    """A lead with one activity, note and email of its own."""
    created = utcnow() - timedelta(days=days_old)
    lead = Lead(**({"title": "Lead", "owner_id": owner.id, "team_id": owner.team_id, "created_at": created,
                    "updated_at": created, "status_id": status("New").id} | values))
    db.session.add(lead)
    db.session.flush()
    db.session.add_all([Activity(subject=f"Call {lead.title}", lead_id=lead.id),
                        Note(body=f"Note of {lead.title}", lead_id=lead.id),
                        EmailMessage(subject=f"Mail of {lead.title}", lead_id=lead.id)])
    db.session.flush()
    return lead


def children(lead_ids) -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count(m.id)).where(m.lead_id.in_(lead_ids)))
            for m in CHILDREN}


def assert_merged(survivor: Lead, others: list[Lead], **expected) -> None:
    """The survivor holds the expected values; the others are in the trash, merged into it."""
    db.session.expire_all()
    for name, value in expected.items():
        assert getattr(db.session.get(Lead, survivor.id), name) == value, name
    for other in others:
        other = db.session.get(Lead, other.id)
        assert other.deleted_at is not None and other.merged_into_id == survivor.id
        assert children([other.id]) == {"Activity": 0, "Note": 0, "EmailMessage": 0}


def test_the_record_created_first_is_the_default_survivor_whatever_its_status(app, rep):
    lost = make_lead(rep, days_old=90, title="lost", status_id=status("Unqualified").id)
    qualified = make_lead(rep, days_old=2, title="qualified", status_id=status("Qualified").id)
    new_old = make_lead(rep, days_old=50, title="new old")
    new_young = make_lead(rep, days_old=5, title="new young")
    ranked = sorted([new_young, qualified, new_old, lost], key=survivor_key)
    assert [r.title for r in ranked] == ["lost", "new old", "new young", "qualified"]


def test_a_deal_outranks_a_lead_whatever_their_age(app, admin):
    deal = db.session.scalar(select(Deal).order_by(Deal.id))
    lead = make_lead(admin, days_old=3000, title="ancient lead")
    assert sorted([lead, deal], key=survivor_key) == [deal, lead]


def test_merge_keeps_the_ranked_survivor_by_default(app, rep):
    young = make_lead(rep, days_old=1, title="young")
    old = make_lead(rep, days_old=30, title="old")
    result = merge_records(db.session, "lead", [young.id, old.id], actor=rep)
    assert result.survivor is old and result.merged == [young]


def test_merge_loses_nothing_children_move_to_the_survivor(app, rep):
    leads = [make_lead(rep, days_old=i, title=f"L{i}") for i in range(5)]
    ids = [lead.id for lead in leads]
    before = children(ids)
    result = merge_records(db.session, "lead", ids, survivor_id=leads[2].id, actor=rep)
    db.session.commit()
    assert children([leads[2].id]) == before == {"Activity": 5, "Note": 5, "EmailMessage": 5}
    assert result.moved["activity.lead_id"] == 4
    assert_merged(leads[2], [leads[0], leads[1], leads[3], leads[4]])


def test_field_defaults_follow_the_kept_record_then_the_newest_non_empty_value(app, rep):
    kept = make_lead(rep, days_old=30, title="Kept title", email="kept@acme.se", phone="", source="")
    older = make_lead(rep, days_old=20, title="Older", email="older@acme.se", phone="+46 8 111 11 11",
                      source="Fair")
    newer = make_lead(rep, days_old=10, title="Newer", email="", phone="+46 8 222 22 22", source="")
    older.updated_at = utcnow() - timedelta(days=5)  # edited after `newer` was last touched
    newer.updated_at = utcnow() - timedelta(days=9)
    merge_records(db.session, "lead", [newer.id, older.id, kept.id], actor=rep)
    assert_merged(kept, [older, newer], title="Kept title", email="kept@acme.se", phone="+46 8 111 11 11",
                  source="Fair")


def test_keeping_another_record_makes_its_values_the_defaults(app, rep):
    old = make_lead(rep, days_old=30, title="Old title", email="old@acme.se", phone="")
    new = make_lead(rep, days_old=1, title="New title", email="", phone="+46 8 123 45 67")
    merge_records(db.session, "lead", [old.id, new.id], survivor_id=new.id, actor=rep)
    db.session.expire_all()
    kept = db.session.get(Lead, new.id)
    assert (kept.title, kept.email, kept.phone) == ("New title", "old@acme.se", "+46 8 123 45 67")


def timeline_texts(record_type: str, record_id: int) -> list[str]:
    return [v.text for v in describe(db.session, db.session.scalars(timeline_select(record_type, record_id)).all())]


def test_values_that_lose_are_written_on_the_survivors_timeline_and_outlive_the_purge(app, rep):
    kept = make_lead(rep, days_old=30, title="Acme", email="ana@acme.se", phone="+46 8 111 11 11",
                     tags="hot", description="Wants vans.", city="Lund", country="Sweden")
    other = make_lead(rep, days_old=1, title="Acme", email="", phone="+46 8 222 22 22",
                      tags="vip", description="Call after 10.", city="Malmö", country="Sweden")
    kept_id, other_id = kept.id, other.id
    merge_records(db.session, "lead", [kept_id, other_id], actor=rep)
    purge_trash(db.session, timedelta(0), now=utcnow() + timedelta(seconds=1))
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(Lead.id == other_id)) == 0
    texts = timeline_texts("lead", kept_id)
    lost = sorted(t for t in texts if t.startswith("merged from"))
    assert lost == [f"merged from #{other_id}: Address Malmö, Sweden (merge by Ana Ruiz)",
                    f"merged from #{other_id}: Phone +46 8 222 22 22 (merge by Ana Ruiz)"]
    # equal titles, an empty email, united tags and joined descriptions lose nothing


def test_merge_applies_picked_values_including_custom_fields(app, rep):
    db.session.add(CustomField(record_type="lead", key="fleet_size", label="Fleet size", kind="number"))
    a = make_lead(rep, days_old=30, title="A", email="a@acme.se", custom={"fleet_size": 10})
    b = make_lead(rep, days_old=1, title="B", email="b@acme.se", custom={"fleet_size": 25})
    merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep,
                  choices={"email": b.id, "title": a.id, "custom.fleet_size": a.id})
    assert_merged(a, [b], title="A", email="b@acme.se", custom={"fleet_size": 10})


def test_merge_unites_tags_and_can_concatenate_descriptions(app, rep):
    a = make_lead(rep, days_old=3, tags="hot,vip", description="Wants 20 vans.")
    b = make_lead(rep, days_old=1, tags="VIP, fleet", description="Call after 10.")
    merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep)
    assert_merged(a, [b], tags="hot,vip,fleet", description="Wants 20 vans.\n\nCall after 10.")


def test_merge_sets_the_chosen_salesperson_and_team(app, manager, rep):
    colleague = db.session.scalar(select(User).where(User.email == "rep2@example.com"))
    a, b = make_lead(rep, days_old=2), make_lead(rep, days_old=1)
    merge_records(db.session, "lead", [a.id, b.id], actor=manager, owner_id=colleague.id)
    assert_merged(a, [b], owner_id=colleague.id, team_id=colleague.team_id)


def test_merge_writes_a_history_event_on_every_record_in_one_batch(app, rep):
    leads = [make_lead(rep, days_old=i, title=f"L{i}") for i in range(3)]
    result = merge_records(db.session, "lead", [lead.id for lead in leads], actor=rep)
    events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "merge",
                                                          HistoryEvent.record_type == "lead")).all()
    assert {e.record_id for e in events} == {lead.id for lead in leads}
    assert {e.batch_id for e in events} == {result.batch_id}
    assert db.session.get(Batch, result.batch_id).count == 3


def test_survivor_timeline_includes_the_history_of_merged_records(app, rep):
    a, b = make_lead(rep, days_old=2, title="Keeper"), make_lead(rep, days_old=1, title="Gone")
    db.session.add(HistoryEvent(record_type="lead", record_id=b.id, kind="note", new="called twice"))
    merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep)
    texts = [v.text for v in describe(db.session, db.session.scalars(timeline_select("lead", a.id)).all())]
    assert any("called twice" in t for t in texts)
    assert any(t.startswith(f"merged: kept this lead, merged in #{b.id}") for t in texts)


def test_survivor_page_says_which_merged_record_an_event_came_from(app, client, auth, rep):
    a, b = make_lead(rep, days_old=2, title="Keeper"), make_lead(rep, days_old=1, title="Gone")
    db.session.add(HistoryEvent(record_type="lead", record_id=b.id, kind="note", new="called twice"))
    merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep)
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get(f"/leads/{a.id}").get_data(as_text=True)
    assert f'href="/leads/{b.id}">on merged #{b.id}</a>' in page


def test_only_users_who_may_edit_all_records_can_merge(app, rep):
    other_rep = db.session.scalar(select(User).where(User.email == "rep2@example.com"))
    mine, theirs = make_lead(rep, title="Mine"), make_lead(other_rep, title="Theirs")
    with pytest.raises(PermissionDenied, match=f"#{theirs.id}"):
        merge_records(db.session, "lead", [mine.id, theirs.id], actor=rep)


def test_converted_leads_are_read_only_and_not_merged(app, rep):
    a, b = make_lead(rep, title="A"), make_lead(rep, title="B", converted_at=utcnow())
    with pytest.raises(DomainError, match=f"#{b.id} was converted and is read-only"):
        merge_records(db.session, "lead", [a.id, b.id], actor=rep)


@pytest.mark.parametrize("ids, message", [
    (["1"], "Select 2 to 5 leads"), (["1", "2", "3", "4", "5", "6"], "Select 2 to 5 leads"),
    (["1", "999999"], "There is no lead #999999"), (["1", "2; drop table lead"], "is not a record id"),
])
def test_bad_selections_are_refused_with_a_clear_message(app, admin, ids, message):
    with pytest.raises(DomainError, match=message):
        merge_records(db.session, "lead", ids, actor=admin)


def test_undo_merge_restores_the_records_and_moves_their_children_back(app, rep):
    a = make_lead(rep, days_old=3, title="A", email="a@acme.se", tags="hot")
    b = make_lead(rep, days_old=1, title="B", email="b@acme.se", tags="vip")
    before = {lead.id: children([lead.id]) for lead in (a, b)}
    result = merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep, choices={"email": b.id})
    db.session.add(Note(body="Added after the merge", lead_id=a.id))
    undo_merge(db.session, result.batch_id, rep)
    db.session.commit()
    db.session.expire_all()
    after = {lead.id: children([lead.id]) for lead in (a, b)}
    assert after[b.id] == before[b.id] and after[a.id]["Note"] == before[a.id]["Note"] + 1
    a, b = db.session.get(Lead, a.id), db.session.get(Lead, b.id)
    assert (a.email, a.tags) == ("a@acme.se", "hot")
    assert b.deleted_at is None and b.merged_into_id is None
    with pytest.raises(DomainError, match="already undone"):
        undo_merge(db.session, result.batch_id, rep)


def merge_then_edit(rep) -> tuple[Lead, Lead, str]:
    """A and B merged into A taking B's title and status, then A's title and status edited by hand."""
    a = make_lead(rep, days_old=3, title="Fleet", email="a@acme.se")
    b = make_lead(rep, days_old=1, title="12 vans", email="b@acme.se", status_id=status("Contacted").id)
    result = merge_records(db.session, "lead", [a.id, b.id], actor=rep, choices={"title": b.id, "status": b.id})
    update_record(db.session, a, {"title": "14 vans", "status_id": status("Qualified").id, "source": "Fair"}, rep)
    db.session.commit()
    return a, b, result.batch_id


def test_undo_merge_says_what_changed_since_and_keeps_it_unless_reverted(app, rep):
    a, b, batch_id = merge_then_edit(rep)
    plan = undo_plan(db.session, batch_id, rep)
    changed = {c.name: (c.before, c.now, c.by) for c in plan.changed}
    assert changed == {"title": ("Fleet", "14 vans", "Ana Ruiz"), "status": ("New", "Qualified", "Ana Ruiz")}
    assert plan.untouched == ["Source"]  # the merge did not set it: Undo leaves it anyway
    undo_merge(db.session, batch_id, rep, revert={"title"})
    db.session.commit()
    db.session.expire_all()
    a = db.session.get(Lead, a.id)
    assert (a.title, a.status.name, a.source, a.email) == ("Fleet", "Qualified", "Fair", "a@acme.se")
    assert db.session.get(Lead, b.id).deleted_at is None


def test_undo_merge_button_asks_first_when_the_record_changed_since(app, client, auth, rep):
    a, b, batch_id = merge_then_edit(rep)
    auth.login("rep1@example.com")
    response = client.post(f"/merges/{batch_id}/undo")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/merges/{batch_id}/undo")
    assert db.session.get(Batch, batch_id).undone_at is None
    page = client.get(f"/merges/{batch_id}/undo").get_data(as_text=True)
    assert "Changed since the merge" in page and "14 vans" in page and "Fleet" in page
    assert 'aria-label="Title: put back the value from before the merge"' in page
    response = client.post(f"/merges/{batch_id}/undo", data={"decided": "1", "change_status": "revert"})
    assert response.status_code == 303
    db.session.expire_all()
    a = db.session.get(Lead, a.id)
    assert (a.title, a.status.name) == ("14 vans", "New")
    assert db.session.get(Lead, b.id).deleted_at is None


def test_the_undo_page_of_a_merge_one_cannot_see_is_not_found(app, client, auth, rep):
    _a, _b, batch_id = merge_then_edit(rep)
    auth.login("rep4@example.com")
    assert client.get(f"/merges/{batch_id}/undo").status_code == 404
    assert client.post(f"/merges/{batch_id}/undo").status_code == 404
    assert client.get("/merges/nope/undo").status_code == 404


def test_merging_contacts_moves_their_deals_and_logs_the_link_change(app, admin):
    deal = db.session.scalar(select(Deal).where(Deal.contact_id.is_not(None)))
    keeper = Contact(name="Keeper", owner_id=deal.owner_id, team_id=deal.team_id)
    db.session.add(keeper)
    db.session.flush()
    old_contact = deal.contact_id
    result = merge_records(db.session, "contact", [keeper.id, old_contact], survivor_id=keeper.id, actor=admin)
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).contact_id == keeper.id
    assert db.session.scalar(select(HistoryEvent.old).where(
        HistoryEvent.record_type == "deal", HistoryEvent.record_id == deal.id,
        HistoryEvent.batch_id == result.batch_id)) == str(old_contact)
    undo_merge(db.session, result.batch_id, admin)
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).contact_id == old_contact


# --- web ----------------------------------------------------------------------------------------

def test_merge_panel_shows_records_side_by_side_with_conflicts_and_defaults(app, client, auth, rep):
    a = make_lead(rep, days_old=30, title="Acme", email="old@acme.se", description="first")
    b = make_lead(rep, days_old=1, title="Acme", email="new@acme.se", description="second")
    db.session.commit()
    auth.login("rep1@example.com")
    body = client.get(f"/leads/merge?ids={a.id},{b.id}").get_data(as_text=True)
    assert f'aria-label="Keep email from #{b.id}"' in body
    assert re.search(rf'name="pick_email" value="{a.id}" checked', body)
    assert re.search(rf'name="survivor" value="{a.id}" checked', body)
    assert 'class="conflict"' in body and "Combine all texts" in body
    assert 'aria-label="Keep title from' not in body  # equal values need no choice
    fragment = client.get(f"/leads/merge?ids={a.id},{b.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Merge 2 leads" in fragment and "<html" not in fragment


def test_keeping_another_record_in_the_panel_moves_the_defaults_to_it(app, client, auth, rep):
    a = make_lead(rep, days_old=30, title="A", email="old@acme.se", phone="")
    b = make_lead(rep, days_old=1, title="B", email="new@acme.se", phone="+46 8 123 45 67")
    db.session.commit()
    auth.login("rep1@example.com")
    body = client.get(f"/leads/merge?ids={a.id},{b.id}&survivor={b.id}",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert re.search(rf'name="survivor" value="{b.id}" checked', body)
    assert re.search(rf'name="pick_email" value="{b.id}" checked', body)
    assert re.search(rf'name="pick_title" value="{b.id}" checked', body)
    assert "<html" not in body


def test_posting_the_panel_merges_and_redirects_to_the_survivor(app, client, auth, rep):
    a = make_lead(rep, days_old=30, title="A", email="old@acme.se")
    b = make_lead(rep, days_old=1, title="B", email="new@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    response = client.post("/leads/merge", data={"ids": f"{a.id},{b.id}", "survivor": a.id,
                                                  "pick_email": a.id, "pick_title": b.id, "owner": f"user:{rep.id}",
                                                  "team": rep.team_id})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leads/{a.id}")
    assert_merged(a, [b], email="old@acme.se", title="B")
    page = client.get(f"/leads/{a.id}").get_data(as_text=True)
    assert "Undo merge" in page and "Note of B" in page


@pytest.mark.parametrize("owner, status, message", [
    ("rep2@example.com", 403, "You may not change lead #{id}"),  # a teammate's: visible, read-only
    ("rep4@example.com", 422, "There is no lead #{id}"),  # another team's: not even visible
])
def test_tampered_ids_change_nothing(app, client, auth, rep, owner, status, message):
    other_rep = db.session.scalar(select(User).where(User.email == owner))
    mine, theirs = make_lead(rep, title="Mine"), make_lead(other_rep, title="Theirs")
    db.session.commit()
    auth.login("rep1@example.com")
    response = client.post("/leads/merge", data={"ids": f"{mine.id},{theirs.id}", "survivor": mine.id})
    assert response.status_code == status
    assert message.format(id=theirs.id) in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lead, theirs.id).deleted_at is None
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.action == "merge")) == 0


def test_undo_merge_button_restores_from_the_survivor_timeline(app, client, auth, rep):
    a, b = make_lead(rep, days_old=3, title="A"), make_lead(rep, days_old=1, title="B")
    result = merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep)
    db.session.commit()
    auth.login("rep1@example.com")
    response = client.post(f"/merges/{result.batch_id}/undo")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Lead, b.id).deleted_at is None
    assert "Undo merge" not in client.get(f"/leads/{a.id}").get_data(as_text=True)


def test_merge_selected_button_submits_the_list_selection(app, client, auth):
    auth.login()
    body = client.get("/leads/").get_data(as_text=True)
    assert re.search(r'form="selection" formaction="/leads/merge" formmethod="get"', body)
    assert client.get("/leads/merge?type=lead&ids=1&ids=2").status_code == 200


def test_deal_value_keeps_its_currency(app, admin):
    d1, d2 = db.session.scalars(select(Deal).order_by(Deal.id).limit(2)).all()
    d1.value, d1.currency, d2.value, d2.currency = Decimal("100"), "SEK", Decimal("200"), "EUR"
    merge_records(db.session, "deal", [d1.id, d2.id], survivor_id=d1.id, choices={"value": d2.id}, actor=admin)
    assert (d1.value, d1.currency) == (Decimal("200"), "EUR")


def test_a_merged_record_points_to_its_survivor_from_its_page_and_the_trash(app, client, auth, rep):
    a, b = make_lead(rep, days_old=3, title="Keeper"), make_lead(rep, days_old=1, title="Gone")
    merge_records(db.session, "lead", [a.id, b.id], survivor_id=a.id, actor=rep)
    db.session.commit()
    auth.login("rep1@example.com")
    assert f"Merged into #{a.id}" in client.get(f"/leads/{b.id}").get_data(as_text=True)
    trash = client.get("/trash?type=lead").get_data(as_text=True)
    assert f'merged into <a href="/leads/{a.id}">#{a.id}</a>' in trash


def test_contacts_merge_through_the_same_panel(app, client, auth, admin):
    first, second = db.session.scalars(select(Contact).order_by(Contact.id).limit(2)).all()
    auth.login()
    assert "Merge 2 contacts" in client.get(f"/contacts/merge?ids={first.id},{second.id}").get_data(as_text=True)
    response = client.post("/contacts/merge", data={"ids": f"{first.id},{second.id}", "survivor": first.id,
                                                     "pick_name": second.id})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Contact, first.id).name == second.name
    assert db.session.get(Contact, second.id).deleted_at is not None


def test_a_refused_choice_shows_the_panel_again_with_the_reason(app, client, auth, rep):
    colleague = db.session.scalar(select(User).where(User.email == "rep2@example.com"))
    a, b = make_lead(rep, days_old=3, title="A"), make_lead(rep, days_old=1, title="B")
    db.session.commit()
    auth.login("rep1@example.com")
    response = client.post("/leads/merge", data={"ids": f"{a.id},{b.id}", "owner": f"user:{colleague.id}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Reps can only assign records to themselves." in body
    assert 'name="survivor"' in body and "Nothing was merged." in body
    db.session.expire_all()
    assert db.session.get(Lead, b.id).deleted_at is None


@pytest.mark.parametrize("email, offered", [("rep1@example.com", False), ("manager@example.com", False),
                                            ("admin@example.com", True)])
def test_no_owner_is_offered_only_to_those_who_may_leave_the_result_ownerless(app, client, auth, rep, email, offered):
    a, b = make_lead(rep, days_old=3, title="A"), make_lead(rep, days_old=1, title="B")
    auth.login(email)
    body = client.get(f"/leads/merge?ids={a.id},{b.id}").get_data(as_text=True)
    owner_select = re.search(r'<select name="owner">(.*?)</select>', body, re.S).group(1)
    assert ('<option value=""' in owner_select) is offered
    assert f'value="user:{rep.id}" selected' in owner_select  # the kept record's owner stays the default
