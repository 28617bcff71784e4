"""Which territory a point lies in: the territories' shapes in an STRtree, smallest first.

`territory_values` (one record being saved) and `with_territories` (an import's new rows) give a
record the territory of its coordinates and, inside an auto-assigning territory, its owner as the
owner service allows it (`owners.territory_owner`).
"""
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Territory
from crm.services import DomainError
from crm.services.geometry import read_geojson
from crm.services.owners import territory_owner

INDEX_KEY = "territory_index"


@dataclass
class TerritoryIndex:
    """Territory shapes in an STRtree, smallest first so overlaps resolve to the smaller one."""

    ids: list[int]
    owners: list[int | None]   # the owner to assign, only for auto-assigning territories
    tree: STRtree

    def lookup(self, lats: np.ndarray, lngs: np.ndarray) -> list[int | None]:
        """The territory index (into ids) for each point, or None."""
        found: list[int | None] = [None] * len(lats)
        if not len(lats) or not self.ids:
            return found
        points = shapely.points(np.asarray(lngs, float), np.asarray(lats, float))
        point_idx, tree_idx = self.tree.query(points, predicate="intersects")
        for p, t in sorted(zip(point_idx.tolist(), tree_idx.tolist()), key=lambda pair: -pair[1]):
            found[p] = t  # descending order: the smallest territory (lowest index) is written last
        return found


def build_index(session: Session, exclude: int | None = None) -> TerritoryIndex:
    """Every territory's shape (but `exclude`, a territory about to go), smallest first."""
    shapes = []
    for t in session.scalars(select(Territory).where(Territory.id != exclude) if exclude else select(Territory)):
        try:
            shapes.append((read_geojson(t.geojson).geometry, t))
        except DomainError:
            continue  # an unreadable stored shape assigns nothing rather than failing every save
    shapes.sort(key=lambda pair: (pair[0].area, pair[1].id))
    return TerritoryIndex(ids=[t.id for _, t in shapes],
                          owners=[getattr(territory_owner(session, t), "id", None) for _, t in shapes],
                          tree=STRtree([g for g, _ in shapes]))


def _cached_index(session: Session) -> TerritoryIndex:
    """One index per session (a request, an import): saving many records must not rebuild it each time.

    Creating or deleting a territory drops it; a new request starts with a new session.
    """
    if INDEX_KEY not in session.info:
        session.info[INDEX_KEY] = build_index(session)
    return session.info[INDEX_KEY]


def territory_values(session: Session, values: dict, record=None) -> dict:
    """`values` plus territory_id (and an auto-assigned owner_id) when the location changes.

    Called by editing.create_record/update_record before the change is applied and logged.
    """
    if "lat" not in values and "lng" not in values:
        return values
    lat = values.get("lat", getattr(record, "lat", None))
    lng = values.get("lng", getattr(record, "lng", None))
    if record is not None and (lat, lng) == (record.lat, record.lng):
        return values
    if lat is None or lng is None:
        return {**values, "territory_id": None}
    index = _cached_index(session)
    hit = index.lookup(np.array([lat]), np.array([lng]))[0]
    out = {**values, "territory_id": index.ids[hit] if hit is not None else None}
    if hit is not None and index.owners[hit] and out["territory_id"] != getattr(record, "territory_id", None):
        out["owner_id"] = index.owners[hit]
    return out


def with_territories(session: Session, rows: list[dict]) -> list[dict]:
    """New records' values (an import's rows) with the territory of their coordinates, in one lookup;
    an auto-assigning territory's owner becomes the owner, as `territory_values` does for one record."""
    located = [i for i, row in enumerate(rows) if row.get("lat") is not None and row.get("lng") is not None]
    if not located:
        return rows
    index = _cached_index(session)
    hits = index.lookup(np.array([rows[i]["lat"] for i in located]), np.array([rows[i]["lng"] for i in located]))
    rows = list(rows)
    for i, hit in zip(located, hits):
        if hit is not None:
            rows[i] = rows[i] | {"territory_id": index.ids[hit]} | (
                {"owner_id": index.owners[hit]} if index.owners[hit] else {})
    return rows
