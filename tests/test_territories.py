"""Territories: STRtree lookup on create and move, bulk recompute, auto-assign, editing, deletion."""
import json

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import HistoryEvent, Lead, Territory, User
from crm.services import DomainError, PermissionDenied
from crm.services.editing import create_record, update_record
from crm.services.geometry import read_latlngs
from crm.services.record_types import LEAD
from crm.services.territories import (
    build_index, create_territory, delete_territory, recompute_territories, seed_demo_territories,
    update_territory,
)

import numpy as np

SQUARE = [[10, 10], [10, 20], [20, 20], [20, 10]]      # lat 10..20, lng 10..20
INNER = [[14, 14], [14, 16], [16, 16], [16, 14]]       # inside SQUARE, smaller


def by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def territory(admin, name, outline, owner=None, auto=False) -> Territory:
    t, _ = create_territory(db.session, admin, name=name, area=read_latlngs(outline),
                            owner_id=owner.id if owner else None, auto_assign=auto)
    return t


def place(lead_id: int, lat: float | None, lng: float | None) -> None:
    db.session.execute(update(Lead).where(Lead.id == lead_id).values(lat=lat, lng=lng, territory_id=None))


def test_demo_seed_has_territories_with_their_records(app):
    iberia = db.session.scalar(select(Territory).where(Territory.name == "Iberia"))
    assert iberia is not None and not iberia.auto_assign
    in_spain = db.session.scalars(select(Lead).where(Lead.territory_id == iberia.id)).all()
    assert in_spain and all(lead.country in ("Spain", "Portugal", "France") for lead in in_spain)


def test_index_lookup_picks_the_smallest_containing_territory(app, admin):
    big = territory(admin, "Big", SQUARE)
    small = territory(admin, "Small", INNER)
    index = build_index(db.session)
    hits = index.lookup(np.array([15.0, 12.0, 50.0]), np.array([15.0, 12.0, 50.0]))
    assert [index.ids[h] if h is not None else None for h in hits] == [small.id, big.id, None]


def test_new_lead_gets_territory_and_auto_assigned_owner(app, admin):
    owner = by_email("rep4@example.com")
    t = territory(admin, "South square", SQUARE, owner=owner, auto=True)
    lead = create_record(db.session, LEAD, {"title": "Inside", "lat": 12.0, "lng": 12.0}, admin)
    assert (lead.territory_id, lead.owner_id, lead.team_id) == (t.id, owner.id, owner.team_id)


def test_moving_a_lead_changes_its_territory_and_logs_it(app, admin):
    t = territory(admin, "Plain square", SQUARE, owner=by_email("rep2@example.com"), auto=False)
    lead = create_record(db.session, LEAD, {"title": "Outside", "lat": 50.0, "lng": 50.0}, admin)
    owner_before = lead.owner_id
    changes = update_record(db.session, lead, {"lat": 11.0, "lng": 11.0}, admin)
    assert changes["territory_id"] == (None, t.id)
    assert lead.owner_id == owner_before  # no auto-assign on this territory
    fields = set(db.session.scalars(select(HistoryEvent.field).where(
        HistoryEvent.record_type == "lead", HistoryEvent.record_id == lead.id)))
    assert {"lat", "lng", "territory_id"} <= fields
    update_record(db.session, lead, {"lat": None, "lng": None}, admin)
    assert lead.territory_id is None


def test_editing_other_fields_keeps_the_territory(app, admin):
    t = territory(admin, "Keep", SQUARE)
    lead = create_record(db.session, LEAD, {"title": "Keep me", "lat": 12.0, "lng": 12.0}, admin)
    update_record(db.session, lead, {"title": "Renamed", "lat": 12.0, "lng": 12.0}, admin)
    assert lead.territory_id == t.id


def test_recompute_assigns_every_record_set_based_with_one_batch(app, admin):
    t = Territory(name="Raw", geojson=read_latlngs(SQUARE).to_geojson(), auto_assign=False)
    db.session.add(t)
    db.session.flush()
    for lead_id in (1, 2, 3):
        place(lead_id, 15.0, 15.0)
    result = recompute_territories(db.session, admin)
    assert set(db.session.scalars(select(Lead.id).where(Lead.territory_id == t.id))) == {1, 2, 3}
    assert result.moved >= 3
    assert db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
        HistoryEvent.record_type == "batch", HistoryEvent.kind == "territories")) == 1
    again = recompute_territories(db.session, admin)
    assert again.moved == 0


def test_recompute_reassigns_records_entering_an_auto_assign_territory(app, admin):
    owner = by_email("rep5@example.com")
    place(1, 15.0, 15.0)
    place(2, 60.0, 60.0)
    t = territory(admin, "Auto", SQUARE, owner=owner, auto=True)
    assert db.session.get(Lead, 1).owner_id == owner.id and db.session.get(Lead, 1).territory_id == t.id
    assert db.session.get(Lead, 2).territory_id != t.id


def test_deleting_a_territory_keeps_its_records_unassigned(app, admin):
    t = territory(admin, "Gone soon", SQUARE)
    place(1, 15.0, 15.0)
    recompute_territories(db.session, admin)
    deleted = delete_territory(db.session, admin, t)
    assert (deleted.records, deleted.rehomed) == (1, 0)
    lead = db.session.get(Lead, 1)
    assert lead.deleted_at is None and lead.territory_id is None and lead.lat == 15.0
    assert db.session.get(Territory, t.id) is None


def test_deleting_a_territory_hands_its_records_to_the_territory_around_them(app, admin):
    owner = by_email("rep2@example.com")
    place(1, 15.0, 15.0)   # in both
    place(2, 11.0, 11.0)   # only in the big one
    big = territory(admin, "Around", SQUARE, owner=owner, auto=True)
    small = territory(admin, "Core", INNER)
    db.session.execute(update(Lead).where(Lead.id == 1).values(owner_id=by_email("rep4@example.com").id))
    assert (db.session.get(Lead, 1).territory_id, db.session.get(Lead, 2).territory_id) == (small.id, big.id)
    deleted = delete_territory(db.session, admin, small)
    db.session.expire_all()
    assert (deleted.records, deleted.rehomed, deleted.reassigned) == (1, 1, 1)
    assert db.session.get(Lead, 1).territory_id == big.id and db.session.get(Lead, 1).owner_id == owner.id
    assert db.session.get(Lead, 2).territory_id == big.id
    assert record_events(1, "territory_id")[-1] == (str(small.id), str(big.id))
    assert record_events(1, "owner_id")[-1][1] == str(owner.id)
    assert "deleted territory Core (1 records: 1 now in the territory around them" in feed_entries()[-1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(name=" "), "name"),
    (dict(name="Iberia"), "already a territory"),
    (dict(name="X", auto_assign=True, owner_id=None), "needs an owner"),
    (dict(name="Y", owner_id=999999), "Pick an owner"),
])
def test_territory_input_errors_are_explained(app, admin, kwargs, message):
    values = dict(area=read_latlngs(SQUARE), owner_id=None, auto_assign=False) | kwargs
    with pytest.raises(DomainError, match=message):
        create_territory(db.session, admin, **values)


def test_only_admins_manage_territories(app, manager):
    with pytest.raises(PermissionDenied):
        create_territory(db.session, manager, name="Mine", area=read_latlngs(SQUARE), owner_id=None,
                         auto_assign=False)


def test_recompute_command_reports_counts(app, runner):
    place(1, 15.0, 15.0)
    db.session.add(Territory(name="Cli", geojson=read_latlngs(SQUARE).to_geojson()))
    db.session.commit()
    result = runner.invoke(args=["recompute-territories"])
    assert result.exit_code == 0, result.output
    assert "Territories recomputed: 1 records moved" in result.output
    db.session.expire_all()
    assert db.session.get(Lead, 1).territory.name == "Cli"


def test_seeding_demo_territories_does_not_reassign_owners(app):
    before = dict(db.session.execute(select(Lead.id, Lead.owner_id)).all())
    db.session.execute(update(Lead).values(territory_id=None))
    db.session.execute(Territory.__table__.delete())
    seed_demo_territories(db.session)
    assert dict(db.session.execute(select(Lead.id, Lead.owner_id)).all()) == before


# -- editing -------------------------------------------------------------------------------

EAST = [[10, 30], [10, 40], [20, 40], [20, 30]]        # lat 10..20, lng 30..40, beside SQUARE


def edit(admin, t: Territory, **changes):
    """update_territory with the territory's current values, overridden by `changes`."""
    values = dict(name=t.name, owner_id=t.owner_id, auto_assign=t.auto_assign, color=t.color) | changes
    return update_territory(db.session, admin, t, **values)


def feed_entries() -> list[str]:
    return list(db.session.scalars(select(HistoryEvent.new).where(
        HistoryEvent.record_type == "batch", HistoryEvent.kind == "territories").order_by(HistoryEvent.id)))


def record_events(lead_id: int, field: str) -> list[tuple]:
    return db.session.execute(select(HistoryEvent.old, HistoryEvent.new).where(
        HistoryEvent.record_type == "lead", HistoryEvent.record_id == lead_id, HistoryEvent.field == field)
        .order_by(HistoryEvent.id)).all()


def test_renaming_a_territory_keeps_its_records_and_tells_the_feed(app, admin):
    place(1, 15.0, 15.0)
    t = territory(admin, "Old name", SQUARE)
    edited = edit(admin, t, name="  New   name ")
    assert t.name == "New name" and edited.changes == {"name": ("Old name", "New name")}
    assert db.session.get(Lead, 1).territory_id == t.id
    assert feed_entries()[-1].startswith(f"{admin.name} edited territory Old name: renamed to New name")


def test_saving_an_unchanged_territory_writes_nothing(app, admin):
    t = territory(admin, "Same", SQUARE)
    before = db.session.scalar(select(func.count()).select_from(HistoryEvent))
    assert edit(admin, t).changes == {}
    assert db.session.scalar(select(func.count()).select_from(HistoryEvent)) == before


def test_new_owner_of_a_plain_territory_leaves_record_owners_alone(app, admin):
    place(1, 15.0, 15.0)
    t = territory(admin, "Plain", SQUARE, owner=by_email("rep1@example.com"))
    owner_before = db.session.get(Lead, 1).owner_id
    edit(admin, t, owner_id=by_email("rep4@example.com").id)
    assert t.owner_id == by_email("rep4@example.com").id
    assert db.session.get(Lead, 1).owner_id == owner_before


def test_new_owner_of_an_auto_assign_territory_takes_every_record_in_it(app, admin):
    place(1, 15.0, 15.0)
    place(2, 12.0, 18.0)
    place(3, 50.0, 50.0)
    old, new = by_email("rep1@example.com"), by_email("rep4@example.com")
    t = territory(admin, "Auto", SQUARE, owner=old, auto=True)
    outside_owner = db.session.get(Lead, 3).owner_id
    edited = edit(admin, t, owner_id=new.id)
    db.session.expire_all()
    assert edited.result.reassigned == 2
    for lead_id in (1, 2):
        lead = db.session.get(Lead, lead_id)
        assert (lead.owner_id, lead.team_id) == (new.id, new.team_id)
        assert record_events(lead_id, "owner_id")[-1] == (str(old.id), str(new.id))
    assert db.session.get(Lead, 3).owner_id == outside_owner
    assert f"owner {old.name} → {new.name}" in feed_entries()[-1]


def test_redrawing_moves_records_in_and_out_with_history(app, admin):
    place(1, 15.0, 15.0)   # in SQUARE only
    place(2, 15.0, 35.0)   # in EAST only
    t = territory(admin, "Moving", SQUARE)
    edited = edit(admin, t, area=read_latlngs(EAST))
    db.session.expire_all()
    assert db.session.get(Lead, 1).territory_id is None
    assert db.session.get(Lead, 2).territory_id == t.id
    assert edited.result.moved == 2
    assert record_events(1, "territory_id")[-1] == (str(t.id), None)
    assert record_events(2, "territory_id")[-1] == (None, str(t.id))
    assert "outline redrawn (2 records moved" in feed_entries()[-1]
    assert recompute_territories(db.session, admin).moved == 0  # same answer as a full recompute


def test_redrawing_an_auto_assign_territory_gives_entering_records_its_owner(app, admin):
    owner = by_email("rep5@example.com")
    place(2, 15.0, 35.0)
    t = territory(admin, "Auto east", SQUARE, owner=owner, auto=True)
    edit(admin, t, area=read_latlngs(EAST))
    db.session.expire_all()
    lead = db.session.get(Lead, 2)
    assert (lead.territory_id, lead.owner_id) == (t.id, owner.id)


def test_redrawing_hands_records_back_to_a_surrounding_territory(app, admin):
    place(1, 15.0, 15.0)
    big = territory(admin, "Big", SQUARE)
    small = territory(admin, "Small", INNER)
    assert db.session.get(Lead, 1).territory_id == small.id
    edit(admin, small, area=read_latlngs(EAST))
    db.session.expire_all()
    assert db.session.get(Lead, 1).territory_id == big.id


@pytest.mark.parametrize("changes, message", [
    (dict(name=" "), "name"),
    (dict(name="Iberia"), "already a territory"),
    (dict(owner_id=999999), "Pick an owner"),
    (dict(owner_id=None, auto_assign=True), "needs an owner"),
    (dict(owner_id="inactive"), "inactive"),
])
def test_bad_edits_are_refused_and_change_nothing(app, admin, changes, message):
    place(1, 15.0, 15.0)
    t = territory(admin, "Keep me", SQUARE, owner=by_email("rep1@example.com"))
    if changes.get("owner_id") == "inactive":
        quitter = by_email("rep2@example.com")
        quitter.active = False
        changes = dict(owner_id=quitter.id)
    before = (t.name, t.owner_id, t.auto_assign, t.geojson)
    events = db.session.scalar(select(func.count()).select_from(HistoryEvent))
    with pytest.raises(DomainError, match=message):
        edit(admin, t, area=read_latlngs(EAST), **changes)
    assert (t.name, t.owner_id, t.auto_assign, t.geojson) == before
    assert db.session.get(Lead, 1).territory_id == t.id
    assert db.session.scalar(select(func.count()).select_from(HistoryEvent)) == events


def test_an_inactive_owner_may_stay_while_the_territory_is_renamed(app, admin):
    owner = by_email("rep2@example.com")
    t = territory(admin, "Legacy", SQUARE, owner=owner)
    owner.active = False
    edit(admin, t, name="Legacy (old)")
    assert (t.name, t.owner_id) == ("Legacy (old)", owner.id)


def test_only_admins_edit_territories(app, admin, manager):
    t = territory(admin, "Admins only", SQUARE)
    with pytest.raises(PermissionDenied):
        edit(manager, t, name="Mine now")
    assert t.name == "Admins only"


# -- the edit page -------------------------------------------------------------------------

def iberia() -> Territory:
    return db.session.scalar(select(Territory).where(Territory.name == "Iberia"))


def form_values(t: Territory, **changes) -> dict:
    return dict(name=t.name, owner=str(t.owner_id or ""), color=t.color, outline="",
                next="/map/deals") | changes


def test_the_map_offers_admins_an_edit_link_per_territory(client, auth):
    auth.login()
    page = client.get("/map").get_data(as_text=True)
    assert f'href="/map/territories/{iberia().id}/edit?next=' in page and 'aria-label="Edit Iberia"' in page


def test_edit_page_is_a_form_and_htmx_gets_only_the_form(client, auth):
    auth.login()
    url = f"/map/territories/{iberia().id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "Edit territory Iberia" in page and 'value="Iberia"' in page
    assert f'<option selected value="{iberia().owner_id}">' in page
    assert 'name="csrf_token"' in page and "Redraw" in page
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="territory-form"' in fragment


def test_reps_see_no_edit_links(client, auth):
    auth.login("rep1@example.com")
    assert 'aria-label="Edit Iberia"' not in client.get("/map").get_data(as_text=True)


def test_admin_renames_and_reassigns_a_territory_through_the_form(client, auth):
    auth.login()
    t, rep5 = iberia(), by_email("rep5@example.com")
    response = client.post(f"/map/territories/{t.id}/edit",
                           data=form_values(t, name="Iberian Peninsula", owner=str(rep5.id)))
    assert response.status_code == 303 and response.headers["Location"] == "/map/deals"
    db.session.expire_all()
    assert (db.session.get(Territory, t.id).name, db.session.get(Territory, t.id).owner_id) == ("Iberian Peninsula", rep5.id)
    page = client.get("/map/deals").get_data(as_text=True)
    assert "Territory “Iberian Peninsula” saved." in page and "Show Iberian Peninsula" in page


def test_redrawing_through_the_form_moves_records(client, auth):
    auth.login()
    place(1, 15.0, 35.0)
    t = iberia()
    members = set(db.session.scalars(select(Lead.id).where(Lead.territory_id == t.id)))
    response = client.post(f"/map/territories/{t.id}/edit", data=form_values(t, outline=json.dumps(EAST)),
                           follow_redirects=True)
    assert "records moved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert set(db.session.scalars(select(Lead.id).where(Lead.territory_id == t.id))) == {1}
    assert members and all(db.session.get(Lead, i).territory_id is None for i in members)


@pytest.mark.parametrize("changes, message", [
    (dict(outline="[[1,1],[2,2]]"), "Draw around the pins"),
    (dict(outline="not json"), "could not be read"),
    (dict(name="Benelux"), "already a territory called"),
    (dict(name=""), "This field is required"),
])
def test_bad_input_on_the_edit_page_is_explained_and_saves_nothing(client, auth, changes, message):
    auth.login()
    t = iberia()
    before = (t.name, t.geojson, set(db.session.scalars(select(Lead.id).where(Lead.territory_id == t.id))))
    response = client.post(f"/map/territories/{t.id}/edit", data=form_values(t, **changes))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    t = db.session.get(Territory, t.id)
    assert (t.name, t.geojson, set(db.session.scalars(select(Lead.id).where(Lead.territory_id == t.id)))) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_reps_and_managers_cannot_edit_territories(client, auth, method):
    t = iberia()
    for email in ("rep1@example.com", "manager@example.com"):
        auth.login(email)
        response = getattr(client, method)(f"/map/territories/{t.id}/edit", data=form_values(t, name="Mine"))
        assert response.status_code == 403
        auth.logout()
    db.session.expire_all()
    assert db.session.get(Territory, t.id).name == "Iberia"
