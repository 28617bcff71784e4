"""Managing territories (admins): create, edit (rename, owner, colour, outline), delete; each
change moves the records it affects through `recompute` and is one entry in the feed."""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import Territory, User
from crm.services import DomainError, PermissionDenied
from crm.services.geometry import Shape, read_geojson
from crm.services.owners import territory_owner
from crm.services.record_types import RECORD_TYPES
from crm.services.territories.index import INDEX_KEY
from crm.services.territories.recompute import Recomputed, Run, hand_over, recompute, recompute_territories


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
    run = Run(session, actor)
    run.batch_id()  # an edit is in the feed even when no record moves
    result, handed = Recomputed(), 0
    if "geojson" in changes:
        result = recompute(run, _union(old_bounds, area.geometry.bounds), territory.id)
    owner = territory_owner(session, territory)
    if owner is not None and {"owner_id", "auto_assign"} & changes.keys():
        handed = hand_over(run, territory.id, owner)
        result.reassigned += handed
    run.close(result.moved + handed, f"{actor.name} edited territory {old_name}: {_describe(session, changes)} "
                                     f"({result.moved:,} records moved, {result.reassigned:,} reassigned)")
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
    run = Run(session, actor)
    run.batch_id()  # a deletion is in the feed even when the territory was empty
    result = recompute(run, _bounds(territory.geojson), territory.id, exclude=territory.id)
    rehomed = result.rehomed
    run.close(count, f"{actor.name} deleted territory {territory.name} ({count:,} records: {rehomed:,} now in "
                     f"the territory around them, {count - rehomed:,} without a territory)")
    session.delete(territory)
    session.flush()
    session.info.pop(INDEX_KEY, None)
    return Deleted(count, rehomed, result.reassigned)
