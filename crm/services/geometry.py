"""Shapes drawn on the map: reading and repairing them, and which records fall inside.

Coordinates arrive from Leaflet as [lat, lng] pairs; shapely works in (x=lng, y=lat).
A shape the user drew badly gets a clear message or a repair, never a server error:
too few points or no area is refused, a self-intersecting ring is repaired with make_valid,
a ring that crosses the antimeridian is split into its two halves, and a ring with an
enormous number of points is simplified.
"""
import json
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Integer, and_, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from crm.models import User
from crm.services import DomainError
from crm.services.filters import Filter, conditions, filtered_select
from crm.services.record_types import RecordType

MAX_INPUT_POINTS = 200_000   # beyond this the request is refused outright
MAX_VERTICES = 1_000         # more than this is simplified down
WORLD = box(-180, -90, 180, 90)


@dataclass
class Shape:
    """A repaired, valid (multi)polygon in lng/lat plus what was done to it."""

    geometry: BaseGeometry
    notes: list[str] = field(default_factory=list)

    @property
    def parts(self) -> list[Polygon]:
        geom = self.geometry
        return list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]

    def to_geojson(self) -> str:
        return json.dumps(mapping(self.geometry))


def read_latlngs(raw: str | list) -> Shape:
    """A lasso or territory outline ([[lat, lng], ...] or {lat, lng} objects) as a valid shape."""
    points = _points(raw)
    notes: list[str] = []
    if len(points) > MAX_INPUT_POINTS:
        raise DomainError(f"The shape has {len(points):,} points; draw one with fewer than "
                          f"{MAX_INPUT_POINTS:,}.")
    points = _dedupe(points)
    if len(points) < 3:
        raise DomainError("Draw around the pins: a shape needs at least 3 distinct points.")
    lngs = _unwrap([p[1] for p in points])
    ring = np.column_stack([lngs, [min(90.0, max(-90.0, p[0])) for p in points]])
    geom = Polygon(ring)
    if not geom.is_valid:
        geom = _polygonal(shapely.make_valid(geom))
        notes.append("The outline crossed itself; it was repaired.")
    if geom.is_empty or geom.area <= 1e-12:
        raise DomainError("The shape has no area: draw around the pins, not along a line.")
    geom, simplified = _simplify(geom, len(points))
    if simplified:
        notes.append(simplified)
    geom, crossed = _wrap_antimeridian(geom)
    if crossed:
        notes.append("The shape crosses the antimeridian; both sides are included.")
    return Shape(geom, notes)


def read_geojson(text: str) -> Shape:
    """A stored territory (GeoJSON Polygon or MultiPolygon in lng/lat)."""
    try:
        geom = shape(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise DomainError("The stored shape could not be read.") from error
    if not geom.is_valid:
        geom = _polygonal(shapely.make_valid(geom))
    if geom.is_empty or geom.area <= 1e-12:
        raise DomainError("The shape has no area.")
    return Shape(geom)


def _points(raw: str | list) -> list[tuple[float, float]]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else []
        except ValueError:
            raise DomainError("The shape could not be read: draw it again.") from None
    if not isinstance(raw, list):
        raise DomainError("The shape could not be read: draw it again.")
    points = []
    for item in raw:
        try:
            lat, lng = (item["lat"], item["lng"]) if isinstance(item, dict) else item
            lat, lng = float(lat), float(lng)
        except (KeyError, TypeError, ValueError):
            raise DomainError("The shape holds a point that is not a coordinate.") from None
        if not (math.isfinite(lat) and math.isfinite(lng)) or abs(lng) > 1e6:
            raise DomainError("The shape holds a point outside the map.")
        points.append((lat, lng))
    return points


def _dedupe(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop consecutive repeats (a mouse that did not move) and a closing repeat."""
    out: list[tuple[float, float]] = []
    for p in points:
        if not out or p != out[-1]:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _unwrap(lngs: list[float]) -> list[float]:
    """Make longitudes continuous, so 179 -> -179 reads as 179 -> 181 (one step, not a world).

    A map panned round the world reports longitudes like 500; the first point is brought back
    onto [-180, 180] and the others follow it.
    """
    out = [lngs[0] - 360 * round(lngs[0] / 360)]
    for lng in lngs[1:]:
        step = lng - out[-1]
        out.append(lng - 360 * round(step / 360))
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the areas of a repaired geometry (make_valid may add stray lines or points)."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, (Polygon, MultiPolygon))]
    return shapely.union_all(parts) if parts else Polygon()


def _simplify(geom: BaseGeometry, count: int) -> tuple[BaseGeometry, str]:
    if shapely.get_num_coordinates(geom) <= MAX_VERTICES:
        return geom, ""
    minx, miny, maxx, maxy = geom.bounds
    tolerance = max(maxx - minx, maxy - miny) / 20_000
    simple = geom
    while shapely.get_num_coordinates(simple) > MAX_VERTICES and tolerance < 1:
        simple = _polygonal(shapely.make_valid(shapely.simplify(geom, tolerance)))
        tolerance *= 2
    kept = shapely.get_num_coordinates(simple)
    return simple, f"The outline had {count:,} points; it was simplified to {kept:,}."


def _wrap_antimeridian(geom: BaseGeometry) -> tuple[BaseGeometry, bool]:
    """Cut a shape that reaches past ±180 into pieces and shift them back onto the map."""
    minx, _, maxx, _ = geom.bounds
    if minx >= -180 and maxx <= 180:
        return geom, False
    pieces = []
    for shift in range(-2, 3):
        piece = geom.intersection(affinity.translate(WORLD, xoff=360 * shift))
        if not piece.is_empty:
            pieces.append(affinity.translate(_polygonal(piece), xoff=-360 * shift))
    merged = _polygonal(shapely.union_all(pieces))
    return merged, True


# -- selection ---------------------------------------------------------------------------

def select_ids(session: Session, rtype: RecordType, flt: Filter, viewer: User, area: Shape) -> list[int]:
    """Ids of the records inside the shape that match the filter and that the viewer may see.

    SQL narrows to each part's bounding box; shapely's vectorized contains_xy decides.
    """
    model = rtype.model
    boxes = [and_(model.lng.between(x0, x1), model.lat.between(y0, y1))
             for x0, y0, x1, y1 in (p.bounds for p in area.parts)]
    stmt = filtered_select(rtype, flt, viewer, columns=(model.id, model.lat, model.lng)).where(or_(*boxes))
    rows = session.connection().execute(stmt).fetchall()  # Core rows: no ORM bookkeeping per row
    if not rows:
        return []
    ids, lats, lngs = (np.array(column) for column in zip(*rows))
    shapely.prepare(area.geometry)
    inside = shapely.contains_xy(area.geometry, lngs.astype(float), lats.astype(float))
    return np.sort(ids[inside]).tolist()


# -- viewport ----------------------------------------------------------------------------

PIN_LIMIT = 1_500      # at most this many single pins in one response
CELL_PX = 64           # grid cell size on screen, in pixels


@dataclass
class Viewport:
    west: float
    south: float
    east: float
    north: float
    zoom: int


def parse_viewport(bbox: str | None, zoom: str | None) -> Viewport:
    """The visible area from `bbox=west,south,east,north&zoom=z`; the whole world when absent."""
    try:
        west, south, east, north = (float(v) for v in (bbox or "-180,-90,180,90").split(","))
        level = int(zoom) if zoom not in (None, "") else 2
    except ValueError:
        raise DomainError("The map area could not be read.") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise DomainError("The map area could not be read.")
    if east - west >= 360:
        west, east = -180.0, 180.0
    return Viewport(west, max(-90.0, south), east, min(90.0, north), max(0, min(level, 22)))


def _viewport_boxes(model, vp: Viewport) -> list:
    """One box, or two when the view straddles the antimeridian (longitudes past ±180)."""
    west = ((vp.west + 180) % 360) - 180 if vp.west < -180 or vp.west > 180 else vp.west
    east = west + (vp.east - vp.west)
    lat = model.lat.between(vp.south, vp.north)
    if east <= 180:
        return [and_(lat, model.lng.between(west, east))]
    return [and_(lat, model.lng >= west), and_(lat, model.lng <= east - 360)]


def viewport_points(session: Session, rtype: RecordType, flt: Filter, viewer: User, vp: Viewport,
                    category) -> dict:
    """What the map shows in the view: single pins when few, grid clusters otherwise.

    `category` is the column that colours a pin (a lead's status, a deal's stage, an owner) or None.
    One scan does both: the grid's cell counts add up to the total, and only a view with few
    records is read again for its single pins.
    """
    model = rtype.model
    where = conditions(rtype, flt, viewer) + [or_(*_viewport_boxes(model, vp))]
    clusters = _clusters(session, model, where, vp)
    total = sum(c[2] for c in clusters)
    if total <= PIN_LIMIT:
        cat = category if category is not None else literal(0)
        rows = session.connection().execute(select(model.id, model.lat, model.lng, cat).where(*where)).fetchall()
        pins = [[i, round(lat, 5), round(lng, 5), c] for i, lat, lng, c in rows]
        return {"mode": "pins", "total": len(pins), "pins": pins}
    return {"mode": "clusters", "total": total, "clusters": clusters}


def _clusters(session: Session, model, where: list, vp: Viewport) -> list[list]:
    cell = CELL_PX * 360 / (256 * 2 ** vp.zoom)
    # Portable grid cell numbers (SQLite has no floor() everywhere); coordinates made positive.
    gx = cast((model.lng + 180) / cell, Integer)
    gy = cast((model.lat + 90) / cell, Integer)
    stmt = (select(func.count(), func.avg(model.lat), func.avg(model.lng),
                   func.min(model.lat), func.min(model.lng), func.max(model.lat), func.max(model.lng))
            .where(*where).group_by(gx, gy))
    return [[round(lat, 4), round(lng, 4), n, [round(a, 4), round(b, 4), round(c, 4), round(d, 4)]]
            for n, lat, lng, a, b, c, d in session.execute(stmt)]
