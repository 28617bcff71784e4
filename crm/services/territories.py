"""Territories: named areas with an owner. Which territory a record lies in, kept up to date.

A record's territory is the smallest territory that contains its coordinates (an STRtree finds
the candidates). A record that enters a territory whose owner auto-assigns gets that owner
(and the owner's team). Deleting a territory leaves its records where they are; each goes to the
smallest territory still around it, if any (recomputed as on a redraw).
Editing one is recorded like creating it: a redrawn outline moves records in and out, and an
auto-assigning territory that gets a new owner hands every record in it to that owner.
"""
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crm.models import HistoryEvent, Territory, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import history
from crm.services.geometry import Shape, read_geojson
from crm.services.record_types import RECORD_TYPES, RecordType

CHUNK = 5_000
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
                          owners=[t.owner_id if t.auto_assign else None for _, t in shapes],
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


# -- bulk recompute ----------------------------------------------------------------------

@dataclass
class Recomputed:
    moved: int = 0        # records whose territory changed
    reassigned: int = 0   # of those, records that got the territory's owner


def recompute_territories(session: Session, actor: User | None = None, *,
                          record_history: bool = True, only_territory: int | None = None,
                          bounds: tuple[float, float, float, float] | None = None) -> Recomputed:
    """Set every record's territory from its coordinates, in chunks of set-based UPDATEs.

    `bounds` (west, south, east, north) and `only_territory` narrow the work to the records a
    changed territory can affect: those in its box and those that were in it.
    """
    batch_id = history.new_batch_id() if record_history else None
    events: list[dict] | None = [] if record_history else None
    result = _recompute(session, actor, batch_id, events, bounds, only_territory)
    if events is not None and (result.moved or events):
        summary = (f"{actor.name if actor else 'System'} recomputed territories: "
                   f"{result.moved:,} records moved, {result.reassigned:,} reassigned")
        _log_batch(session, actor, batch_id, result.moved, summary, events)
    return result


def _recompute(session: Session, actor: User | None, batch_id: str | None, events: list[dict] | None,
               bounds, only_territory: int | None, exclude: int | None = None) -> Recomputed:
    """The set-based UPDATEs; history events are appended to `events` (None: no history)."""
    index = build_index(session, exclude)
    users = {u.id: u.team_id for u in session.scalars(select(User))}
    result = Recomputed()
    for rtype in RECORD_TYPES.values():
        for rows in _chunks(session, rtype, bounds, only_territory):
            _apply(session, rtype, _moves(index, rows), index, users, result, events, actor, batch_id)
    return result


def _log_batch(session: Session, actor: User | None, batch_id: str, count: int, summary: str,
               events: list[dict]) -> None:
    """One feed entry for the change and its per-record events, inserted in chunks."""
    history.open_batch(session, actor.id if actor else None, "territories", "mixed", count, summary,
                       batch_id=batch_id)
    for start in range(0, len(events), CHUNK):
        session.execute(insert(HistoryEvent), events[start:start + CHUNK])


def _chunks(session: Session, rtype: RecordType, bounds, only_territory):
    """(id, lat, lng, territory_id, owner_id) rows in id order, CHUNK at a time (keyset paging)."""
    model = rtype.model
    stmt = select(model.id, model.lat, model.lng, model.territory_id, model.owner_id)
    if bounds is not None:
        west, south, east, north = bounds
        inside = model.lat.between(south, north) & model.lng.between(west, east)
        stmt = stmt.where(inside | (model.territory_id == only_territory) if only_territory else inside)
    last = 0
    while True:
        rows = session.execute(stmt.where(model.id > last).order_by(model.id).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _moves(index: TerritoryIndex, rows) -> dict[int | None, list[tuple[int, int | None, int | None]]]:
    """New territory id -> [(record id, old territory id, owner id)] for the records that change."""
    located = [r for r in rows if r[1] is not None and r[2] is not None]
    hits = index.lookup(np.array([r[1] for r in located]), np.array([r[2] for r in located]))
    target = {r[0]: (index.ids[h] if h is not None else None) for r, h in zip(located, hits)}
    moves: dict[int | None, list] = defaultdict(list)
    for rid, _lat, _lng, old, owner in rows:
        new = target.get(rid)
        if new != old:
            moves[new].append((rid, old, owner))
    return moves


def _apply(session, rtype, moves, index, users, result, events, actor, batch_id) -> None:
    model = rtype.model
    owner_of = {tid: index.owners[i] for i, tid in enumerate(index.ids)}
    now = utcnow()
    for new, records in moves.items():
        ids = [rid for rid, _, _ in records]
        session.execute(update(model).where(model.id.in_(ids)).values(territory_id=new)
                        .execution_options(synchronize_session=False))
        result.moved += len(ids)
        owner = owner_of.get(new)
        taken = [(rid, old_owner) for rid, _, old_owner in records if owner and old_owner != owner]
        if taken:
            session.execute(update(model).where(model.id.in_([rid for rid, _ in taken]))
                            .values(owner_id=owner, team_id=users.get(owner))
                            .execution_options(synchronize_session=False))
            result.reassigned += len(taken)
        if events is not None:
            base = dict(record_type=rtype.name, actor_id=actor.id if actor else None, kind="update",
                        batch_id=batch_id, at=now)
            events += [dict(base, record_id=rid, field="territory_id", old=_s(old), new=_s(new))
                       for rid, old, _ in records]
            events += [dict(base, record_id=rid, field="owner_id", old=_s(old), new=_s(owner))
                       for rid, old in taken]


def _s(value) -> str | None:
    return None if value is None else str(value)


# -- managing territories ----------------------------------------------------------------

def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only admins can manage territories.")


def _clean_name(session: Session, name: str, territory: Territory | None = None) -> str:
    """The name with its spaces tidied; refused when empty or taken by another territory."""
    name = " ".join(name.split())[:80]
    if not name:
        raise DomainError("Give the territory a name.")
    clash = select(Territory.id).where(Territory.name == name)
    if territory is not None:
        clash = clash.where(Territory.id != territory.id)
    if session.scalar(clash):
        raise DomainError(f"There is already a territory called “{name}”.")
    return name


def _check_owner(session: Session, owner_id: int | None, auto_assign: bool, current: int | None = None) -> None:
    """The owner must be an active user; an owner the territory already has may stay though inactive."""
    if owner_id is not None and owner_id != current:
        owner = session.get(User, owner_id)
        if owner is None:
            raise DomainError("Pick an owner from the list.")
        if not owner.active:
            raise DomainError(f"{owner.name} is inactive: pick an active owner.")
    if auto_assign and owner_id is None:
        raise DomainError("Auto-assign needs an owner: pick one, or untick auto-assign.")


def create_territory(session: Session, actor: User, *, name: str, area: Shape,
                     owner_id: int | None, auto_assign: bool, color: str = "#3b82f6") -> tuple[Territory, Recomputed]:
    """A new territory; the records inside it are assigned to it at once."""
    require_admin(actor)
    name = _clean_name(session, name)
    _check_owner(session, owner_id, auto_assign)
    territory = Territory(name=name, geojson=area.to_geojson(), owner_id=owner_id,
                          auto_assign=auto_assign, color=color)
    session.add(territory)
    session.flush()
    session.info.pop(INDEX_KEY, None)
    return territory, recompute_territories(session, actor, bounds=area.geometry.bounds)


@dataclass
class Edited:
    changes: dict[str, tuple]   # field -> (old, new), only what changed
    result: Recomputed          # records moved by a new outline, reassigned to the owner


def update_territory(session: Session, actor: User, territory: Territory, *, name: str,
                     owner_id: int | None, auto_assign: bool, color: str | None = None,
                     area: Shape | None = None) -> Edited:
    """Rename a territory, change its owner or colour, or give it a new outline (`area`).

    A new outline recomputes the records in the old and the new box (set-based, as on create);
    records entering an auto-assigning territory get its owner. When an auto-assigning
    territory gets a new owner (or starts auto-assigning), every record in it goes to that owner,
    as if the territory had been drawn now. One batch in the feed; one event per record changed.
    """
    require_admin(actor)
    wanted = dict(name=_clean_name(session, name, territory), owner_id=owner_id, auto_assign=auto_assign,
                  color=color or territory.color, geojson=area.to_geojson() if area else territory.geojson)
    _check_owner(session, owner_id, auto_assign, current=territory.owner_id)
    changes = {k: (getattr(territory, k), v) for k, v in wanted.items() if getattr(territory, k) != v}
    if not changes:
        return Edited({}, Recomputed())
    old_name, old_bounds = territory.name, _bounds(territory.geojson)
    for field_name, (_, value) in changes.items():
        setattr(territory, field_name, value)
    session.flush()
    session.info.pop(INDEX_KEY, None)
    batch_id, events = history.new_batch_id(), []
    result = Recomputed()
    if "geojson" in changes:
        bounds = _union(old_bounds, area.geometry.bounds)
        result = _recompute(session, actor, batch_id, events, bounds, territory.id)
    if territory.auto_assign and {"owner_id", "auto_assign"} & changes.keys():
        result.reassigned += _hand_over(session, actor, territory, batch_id, events)
    touched = len({(e["record_type"], e["record_id"]) for e in events})
    _log_batch(session, actor, batch_id, touched,
               f"{actor.name} edited territory {old_name}: {_describe(session, changes)} "
               f"({result.moved:,} records moved, {result.reassigned:,} reassigned)", events)
    return Edited(changes, result)


def _bounds(geojson: str) -> tuple[float, float, float, float] | None:
    try:
        return read_geojson(geojson).geometry.bounds
    except DomainError:
        return None  # an unreadable old outline: its records are still found by their territory id


def _union(a, b) -> tuple[float, float, float, float]:
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _hand_over(session: Session, actor: User, territory: Territory, batch_id: str, events: list[dict]) -> int:
    """Give every record in the territory to its owner (and the owner's team); returns how many changed."""
    owner = session.get(User, territory.owner_id)
    count, now = 0, utcnow()
    for rtype in RECORD_TYPES.values():
        model = rtype.model
        rows = session.execute(select(model.id, model.owner_id).where(
            model.territory_id == territory.id,
            (model.owner_id != owner.id) | model.owner_id.is_(None))).all()
        for start in range(0, len(rows), CHUNK):
            part = rows[start:start + CHUNK]
            session.execute(update(model).where(model.id.in_([rid for rid, _ in part]))
                            .values(owner_id=owner.id, team_id=owner.team_id)
                            .execution_options(synchronize_session=False))
            events += [dict(record_type=rtype.name, record_id=rid, actor_id=actor.id, kind="update",
                            field="owner_id", old=_s(old), new=_s(owner.id), batch_id=batch_id, at=now)
                       for rid, old in part]
        count += len(rows)
    return count


def _describe(session: Session, changes: dict[str, tuple]) -> str:
    """The changes in words for the feed: "renamed to X; owner A → B; outline redrawn"."""
    def who(user_id):
        return session.get(User, user_id).name if user_id else "no owner"
    words = {
        "name": lambda old, new: f"renamed to {new}",
        "owner_id": lambda old, new: f"owner {who(old)} → {who(new)}",
        "auto_assign": lambda old, new: "auto-assign on" if new else "auto-assign off",
        "color": lambda old, new: f"colour {new}",
        "geojson": lambda old, new: "outline redrawn",
    }
    return "; ".join(words[k](*changes[k]) for k in words if k in changes)


def territory_size(session: Session, territory: Territory) -> int:
    """How many records (of every type, trash included) are in the territory."""
    return sum(session.scalar(select(func.count()).select_from(rtype.model)
                              .where(rtype.model.territory_id == territory.id))
               for rtype in RECORD_TYPES.values())


@dataclass
class Deleted:
    records: int    # records that were in the territory
    rehomed: int    # of those, records now in a territory around them
    reassigned: int  # of those, records that got that territory's owner


def delete_territory(session: Session, actor: User, territory: Territory) -> Deleted:
    """Remove a territory; its records stay, and go to the smallest territory around them, if any.

    The records it held are recomputed as on a redraw, with the territory left out of the index:
    one event per record moved (and per owner handed over by an auto-assigning territory around
    it), one batch in the feed.
    """
    require_admin(actor)
    count = territory_size(session, territory)
    batch_id, events = history.new_batch_id(), []
    result = _recompute(session, actor, batch_id, events, _bounds(territory.geojson), territory.id,
                        exclude=territory.id)
    rehomed = sum(1 for e in events if e["field"] == "territory_id" and e["old"] == str(territory.id)
                  and e["new"] is not None)
    _log_batch(session, actor, batch_id, count,
               f"{actor.name} deleted territory {territory.name} ({count:,} records: {rehomed:,} now in "
               f"the territory around them, {count - rehomed:,} without a territory)", events)
    session.delete(territory)
    session.flush()
    session.info.pop(INDEX_KEY, None)
    return Deleted(count, rehomed, result.reassigned)


# -- demo --------------------------------------------------------------------------------

DEMO_TERRITORIES = [
    # name, owner email, colour, outline as [lat, lng]
    ("Iberia", "rep4@example.com", "#e4572e",
     [[43.9, -9.8], [43.9, 3.6], [41.5, 3.6], [36.0, -1.5], [35.8, -6.0], [36.8, -9.8]]),
    ("Benelux", "rep2@example.com", "#17bebb",
     [[53.7, 3.0], [53.7, 7.3], [49.4, 6.6], [49.4, 2.4], [51.2, 2.4]]),
    ("Scandinavia South", "rep1@example.com", "#76b041",
     [[61.0, 10.5], [61.0, 18.9], [55.2, 14.8], [55.2, 12.3], [58.9, 10.5]]),
]


def seed_demo_territories(session: Session) -> None:
    """A few territories so the demo map has some; they never auto-assign (seeded owners stay)."""
    from crm.services.geometry import read_latlngs
    owners = dict(session.execute(select(User.email, User.id)).all())
    for name, email, color, outline in DEMO_TERRITORIES:
        session.add(Territory(name=name, geojson=read_latlngs(outline).to_geojson(),
                              owner_id=owners.get(email), auto_assign=False, color=color))
    session.flush()
    session.info.pop(INDEX_KEY, None)
    recompute_territories(session, record_history=False)
