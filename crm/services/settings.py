"""Global settings and the "use leads" switch (global, then per team)."""
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from crm.models import Setting, Team, User
from crm.services.record_types import RECORD_TYPES, RecordType

LEADS_OFF = "Leads are switched off for your team. Ask an admin, or work with deals."


def get_setting(session: Session, key: str, default: str = "") -> str:
    row = session.get(Setting, key)
    return row.value if row else default


def set_setting(session: Session, key: str, value: str) -> None:
    session.merge(Setting(key=key, value=value))


def leads_enabled(session: Session, user: User | None = None) -> bool:
    """Leads are on unless switched off globally or for the user's team."""
    if get_setting(session, "use_leads", "yes") != "yes":
        return False
    team = session.get(Team, user.team_id) if user is not None and user.team_id else None
    return team.leads_enabled if team else True


def works_with(session: Session, record_type: str) -> ColumnElement[bool]:
    """SQL over User: who may open records of this type (leads can be off globally or per team)."""
    if record_type != "lead":
        return true()
    if get_setting(session, "use_leads", "yes") != "yes":
        return false()
    return or_(User.team_id.is_(None), User.team_id.in_(select(Team.id).where(Team.leads_enabled)))


def enabled_types(session: Session, user: User | None) -> dict[str, RecordType]:
    """The record types the user works with: all of them, less leads where leads are switched off."""
    leads = leads_enabled(session, user)
    return {name: t for name, t in RECORD_TYPES.items() if name != "lead" or leads}


def team_leads_state(session: Session, team: Team) -> str:
    """Whether leads are on for a team, as the admin panel says it: the global switch wins."""
    if get_setting(session, "use_leads", "yes") != "yes":
        return "off — leads are switched off for everyone"
    return "on" if team.leads_enabled else "off"
