"""Territories: STRtree lookup on create and move, bulk recompute, auto-assign, deletion."""
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
    count = delete_territory(db.session, admin, t)
    assert count == 1
    lead = db.session.get(Lead, 1)
    assert lead.deleted_at is None and lead.territory_id is None and lead.lat == 15.0
    assert db.session.get(Territory, t.id) is None


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
