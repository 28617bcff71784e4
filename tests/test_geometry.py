"""Lasso shapes and point-in-polygon selection, checked against an independent brute force.

The brute force is a plain even-odd ray cast over the ring as drawn (no shapely), so it also
checks that repairs (make_valid on a self-intersecting ring, the antimeridian split) keep the
area a person means.
"""
import math
import random

import pytest
from sqlalchemy import select, update

from crm.extensions import db
from crm.models import Lead, User
from crm.services import DomainError
from crm.services.filters import parse_filter
from crm.services.geometry import (
    MAX_VERTICES, parse_viewport, read_latlngs, select_ids, viewport_points,
)
from crm.services.record_types import LEAD


class Args(dict):
    def getlist(self, key):
        value = self.get(key)
        return value if isinstance(value, list) else ([value] if value is not None else [])


def ray_cast(lat: float, lng: float, ring: list[list[float]]) -> bool:
    """Even-odd rule: is (lat, lng) inside the ring of [lat, lng] points?"""
    inside = False
    n = len(ring)
    for i in range(n):
        (y1, x1), (y2, x2) = ring[i], ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < x_cross:
                inside = not inside
    return inside


def unwrapped(ring: list[list[float]]) -> list[list[float]]:
    out = [list(ring[0])]
    for lat, lng in ring[1:]:
        prev = out[-1][1]
        out.append([lat, lng - 360 * round((lng - prev) / 360)])
    return out


def brute_force(points, ring) -> set[int]:
    """Ids of points inside the ring, trying each point at lng and lng ± 360 (antimeridian)."""
    ring = unwrapped(ring)
    return {i for i, lat, lng in points
            if any(ray_cast(lat, lng + shift, ring) for shift in (-360, 0, 360))}


def random_ring(rng: random.Random, kind: str) -> list[list[float]]:
    lat0, lng0 = rng.uniform(38, 58), rng.uniform(-8, 20)
    if kind == "star":  # a simple polygon: vertices at sorted angles
        angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(3, 25)))
        return [[lat0 + rng.uniform(1, 8) * math.sin(a), lng0 + rng.uniform(1, 10) * math.cos(a)] for a in angles]
    if kind == "bowtie":
        h, w = rng.uniform(1, 6), rng.uniform(1, 8)
        return [[lat0 - h, lng0 - w], [lat0 + h, lng0 + w], [lat0 - h, lng0 + w], [lat0 + h, lng0 - w]]
    if kind == "scribble":  # random vertices in random order: usually self-intersecting
        return [[lat0 + rng.uniform(-6, 6), lng0 + rng.uniform(-8, 8)] for _ in range(rng.randint(4, 12))]
    raise ValueError(kind)


def seed_points(rng: random.Random, count: int, lat_range=(30, 66), lng_range=(-20, 35)) -> list[tuple]:
    """Random coordinates written onto the seeded leads (ids kept), returned as (id, lat, lng)."""
    ids = db.session.scalars(select(Lead.id).order_by(Lead.id)).all()
    points = []
    for rid in ids[:count]:
        lat, lng = rng.uniform(*lat_range), rng.uniform(*lng_range)
        db.session.execute(update(Lead).where(Lead.id == rid).values(lat=lat, lng=lng))
        points.append((rid, lat, lng))
    db.session.flush()
    return points


def selection(admin, ring) -> set[int]:
    flt = parse_filter(db.session, LEAD, Args(), admin)
    return set(select_ids(db.session, LEAD, flt, admin, read_latlngs(ring)))


@pytest.mark.parametrize("kind", ["star", "bowtie", "scribble"])
def test_selection_matches_brute_force_on_random_shapes(app, admin, kind):
    rng = random.Random(f"geometry-{kind}")
    points = seed_points(rng, 40)
    for _ in range(25):
        ring = random_ring(rng, kind)
        try:
            got = selection(admin, ring)
        except DomainError:
            continue  # a degenerate random shape: refused with a message, checked below
        assert got == brute_force(points, ring), ring


def test_self_intersecting_lasso_is_repaired_with_a_note(app):
    shape = read_latlngs([[0, 0], [10, 10], [0, 10], [10, 0]])
    assert shape.geometry.is_valid and shape.geometry.area == pytest.approx(50)
    assert "crossed itself" in shape.notes[0]


def test_selection_across_the_antimeridian_takes_both_sides(app, admin):
    rng = random.Random("antimeridian")
    points = seed_points(rng, 40, lat_range=(-20, 20), lng_range=(150, 210))
    points = [(i, lat, lng - 360 if lng > 180 else lng) for i, lat, lng in points]
    for i, lat, lng in points:
        db.session.execute(update(Lead).where(Lead.id == i).values(lng=lng))
    ring = [[-15, 160], [-15, -165], [15, -165], [15, 160]]  # 160E .. 165W, across 180
    got = selection(admin, ring)
    assert got == brute_force(points, ring)
    assert any(lng > 0 for i, _, lng in points if i in got) and any(lng < 0 for i, _, lng in points if i in got)


@pytest.mark.parametrize("ring, message", [
    ([], "at least 3"),
    ([[1, 1], [2, 2]], "at least 3"),
    ([[1, 1], [1, 1], [1, 1], [2, 2]], "at least 3"),
    ([[0, 0], [1, 1], [2, 2], [3, 3]], "no area"),
    ("not json", "could not be read"),
    ([["a", 1], [2, 2], [3, 3]], "not a coordinate"),
    ([[float("nan"), 1], [2, 2], [3, 1]], "outside the map"),
    ({"lat": 1}, "could not be read"),
])
def test_bad_shapes_get_a_clear_message(app, ring, message):
    with pytest.raises(DomainError, match=message):
        read_latlngs(ring)


def test_enormous_lasso_is_simplified_and_still_selects_what_it_surrounds(app, admin):
    rng = random.Random("huge")
    points = seed_points(rng, 40, lat_range=(40, 60), lng_range=(0, 20))
    circle = [[50 + 8 * math.sin(t * 2 * math.pi / 150_000), 10 + 8 * math.cos(t * 2 * math.pi / 150_000)]
              for t in range(150_000)]
    shape = read_latlngs(circle)
    assert len(shape.geometry.exterior.coords) <= MAX_VERTICES + 1
    assert "simplified" in shape.notes[0]
    got = selection(admin, circle)
    clear_of_edge = [p for p in points if abs(math.hypot(p[1] - 50, p[2] - 10) - 8) > 0.05]
    assert {p[0] for p in clear_of_edge} & got == brute_force(clear_of_edge, circle)


def test_lasso_selection_respects_permissions_and_filters(app, admin):
    rng = random.Random("perm")
    seed_points(rng, 40, lat_range=(45, 55), lng_range=(0, 10))
    ring = [[40, -5], [60, -5], [60, 15], [40, 15]]
    rep = db.session.scalar(select(User).where(User.email == "rep4@example.com"))
    flt = parse_filter(db.session, LEAD, Args(), rep)
    got = set(select_ids(db.session, LEAD, flt, rep, read_latlngs(ring)))
    mine = set(db.session.scalars(select(Lead.id).where(Lead.lat.is_not(None), (Lead.owner_id == rep.id) |
                                                         (Lead.team_id == rep.team_id))))
    assert got and got <= mine
    only_source = parse_filter(db.session, LEAD, Args(source="Referral"), admin)
    referral = set(select_ids(db.session, LEAD, only_source, admin, read_latlngs(ring)))
    assert referral == {i for i in selection(admin, ring)
                        if db.session.get(Lead, i).source == "Referral"}


def test_viewport_sends_pins_when_few_and_grid_clusters_when_many(app, admin, monkeypatch):
    flt = parse_filter(db.session, LEAD, Args(), admin)
    vp = parse_viewport("-30,20,45,72", "4")
    pins = viewport_points(db.session, LEAD, flt, admin, vp, Lead.status_id)
    located = db.session.scalar(select(db.func.count(Lead.id)).where(Lead.lat.is_not(None)))
    assert pins["mode"] == "pins" and len(pins["pins"]) == pins["total"] == located
    monkeypatch.setattr("crm.services.geometry.PIN_LIMIT", 5)
    clusters = viewport_points(db.session, LEAD, flt, admin, vp, Lead.status_id)
    assert clusters["mode"] == "clusters"
    assert sum(c[2] for c in clusters["clusters"]) == located
    assert len(clusters["clusters"]) < located


def test_viewport_across_the_antimeridian_queries_both_sides(app, admin):
    db.session.execute(update(Lead).where(Lead.id == 1).values(lat=0, lng=179.5))
    db.session.execute(update(Lead).where(Lead.id == 2).values(lat=0, lng=-179.5))
    flt = parse_filter(db.session, LEAD, Args(), admin)
    data = viewport_points(db.session, LEAD, flt, admin, parse_viewport("170,-10,190,10", "6"), None)
    assert {p[0] for p in data["pins"]} == {1, 2}


@pytest.mark.parametrize("bbox, zoom", [("a,b,c,d", "3"), ("1,2,3", "3"), ("1,2,3,4", "x"), ("nan,1,2,3", "3")])
def test_unreadable_viewport_is_refused(bbox, zoom):
    with pytest.raises(DomainError):
        parse_viewport(bbox, zoom)


def test_a_view_wider_than_the_world_selects_everything_located(app, admin):
    west, east, steps = -170, 530, 8  # "Select in view" on a map panned and zoomed far out
    ring = ([[80, west + (east - west) * i / steps] for i in range(steps + 1)]
            + [[-80, west + (east - west) * i / steps] for i in range(steps, -1, -1)])
    located = set(db.session.scalars(select(Lead.id).where(Lead.lat.between(-80, 80), Lead.lng.is_not(None))))
    assert selection(admin, ring) == located
