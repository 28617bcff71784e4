"""Who may see and change which records. Applied in queries, never only in templates.

Reps see their own records and their team's (read only); managers see and edit their team's;
admins everything.
"""
from sqlalchemy import ColumnElement, false, or_, true

from crm.models import Role, User
from crm.services import PermissionDenied


def visible_clause(model, viewer: User, *, for_edit: bool = False) -> ColumnElement[bool]:
    if viewer.role == Role.ADMIN:
        return true()
    if viewer.role == Role.MANAGER:
        return model.team_id == viewer.team_id if viewer.team_id else model.owner_id == viewer.id
    if for_edit or viewer.team_id is None:
        return model.owner_id == viewer.id
    return or_(model.owner_id == viewer.id, model.team_id == viewer.team_id)


def can_view(viewer: User, record) -> bool:
    return _allowed(viewer, record, for_edit=False)


def can_edit(viewer: User, record) -> bool:
    return _allowed(viewer, record, for_edit=True)


def _allowed(viewer: User, record, *, for_edit: bool) -> bool:
    if viewer.role == Role.ADMIN:
        return True
    if viewer.role == Role.MANAGER and viewer.team_id:
        return record.team_id == viewer.team_id
    if record.owner_id == viewer.id:
        return True
    return not for_edit and viewer.team_id is not None and record.team_id == viewer.team_id


def require_edit(viewer: User, record) -> None:
    if not can_edit(viewer, record):
        raise PermissionDenied("You can only change records you own.")


def may_mass_change(viewer: User) -> bool:
    return viewer.role in (Role.ADMIN, Role.MANAGER)


def may_purge(viewer: User) -> bool:
    return viewer.role == Role.ADMIN


def nothing() -> ColumnElement[bool]:
    return false()
