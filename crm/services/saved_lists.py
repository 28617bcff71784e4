"""Smart lists: a named filter of one record type, private or shared with the owner's team."""
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from crm.models import SavedList, User
from crm.services import DomainError, PermissionDenied
from crm.services.filters import Filter


def list_query(flt: Filter, sort: str = "") -> str:
    """The filter and sort order as the query string of the list's URL."""
    return urlencode(flt.to_args() + ([("sort", sort)] if sort else []))


def save_list(session: Session, owner: User, name: str, record_type: str, flt: Filter,
              shared: bool, sort: str = "") -> SavedList:
    """Save the filter (and the list's sort order) under a name unique among the owner's lists."""
    name = " ".join(name.split())[:80]
    if not name:
        raise DomainError("Give the smart list a name.")
    if flt.errors:
        raise DomainError("Fix the filter before saving it: " + " ".join(flt.errors))
    taken = session.scalar(select(SavedList.id).where(SavedList.owner_id == owner.id, SavedList.record_type == record_type,
                                                      func.lower(SavedList.name) == name.lower()))
    if taken:
        raise DomainError(f"You already have a smart list called “{name}”: choose another name.")
    saved = SavedList(name=name, record_type=record_type, query=list_query(flt, sort),
                      owner_id=owner.id, team_id=owner.team_id, shared=shared and owner.team_id is not None)
    session.add(saved)
    return saved


def visible_lists(viewer: User) -> Select:
    """The viewer's own lists and the lists shared with the viewer's team."""
    shared = (SavedList.shared & (SavedList.team_id == viewer.team_id)) if viewer.team_id else False
    return (select(SavedList).where(or_(SavedList.owner_id == viewer.id, shared))
            .order_by(SavedList.record_type, SavedList.name))


def list_for_filter(session: Session, viewer: User, record_type: str, flt: Filter) -> SavedList | None:
    """The viewer's smart list that is exactly this filter, whatever its sort (the list page names it)."""
    if flt.errors or flt.is_empty:
        return None
    wanted = flt.to_args()
    lists = session.scalars(visible_lists(viewer).where(SavedList.record_type == record_type))
    return next((s for s in lists if [a for a in parse_qsl(s.query) if a[0] != "sort"] == wanted), None)


def delete_list(session: Session, saved: SavedList, viewer: User) -> None:
    if saved.owner_id != viewer.id and not viewer.is_admin:
        raise PermissionDenied("Only the person who saved a smart list can delete it.")
    session.delete(saved)
