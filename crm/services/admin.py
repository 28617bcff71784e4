"""Administration: users, teams, settings and custom fields, each change logged (lead statuses:
crm/services/lead_statuses.py)."""
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import CustomField, Team, User
from crm.services import DomainError, history
from crm.services.editing import diff
from crm.services.sessions import end_all_sessions
from crm.services.settings import get_setting, set_setting


def save_user(session: Session, actor: User, values: dict, user: User | None = None,
              password: str | None = None) -> User:
    email = values["email"].strip().lower()
    clash = session.scalar(select(User.id).where(func.lower(User.email) == email))
    if clash is not None and (user is None or clash != user.id):
        raise DomainError(f"Another user already has the email {email}.")
    if user is not None and user.id == actor.id and (values["role"] != "admin" or not values["active"]):
        raise DomainError("You cannot remove your own admin role or deactivate yourself.")
    values = {**values, "email": email}
    if user is None:
        if not password:
            raise DomainError("A new user needs a password.")
        user = User(**values)
        user.set_password(password)
        session.add(user)
        session.flush()
        history.log(session, "user", user.id, actor.id, "create", new=user.name)
        return user
    changes = diff(user, values)
    for name, (_old, new) in changes.items():
        setattr(user, name, new)
    if password:
        user.set_password(password)
        changes["password"] = ("", "changed")
    if password or "active" in changes:  # a new password or a deactivation logs the user out everywhere
        session.flush()
        end_all_sessions(session, user)
    history.log_changes(session, "user", user.id, actor.id, changes)
    return user


def set_leads_enabled(session: Session, actor: User, enabled: bool, team: Team | None = None) -> None:
    if team is None:
        old = get_setting(session, "use_leads", "yes")
        set_setting(session, "use_leads", "yes" if enabled else "no")
        history.log_changes(session, "setting", 0, actor.id, {"use_leads": (old, "yes" if enabled else "no")})
    else:
        history.log_changes(session, "team", team.id, actor.id, {"leads_enabled": (team.leads_enabled, enabled)})
        team.leads_enabled = enabled


def add_custom_field(session: Session, actor: User, values: dict) -> CustomField:
    exists = session.scalar(select(CustomField.id).where(
        CustomField.record_type == values["record_type"], CustomField.key == values["key"]))
    if exists:
        raise DomainError(f"There is already a custom field with the key {values['key']!r} for this record type.")
    choices = [c.strip() for c in (values.pop("choices") or "").split(",") if c.strip()]
    if values["kind"] == "choice" and len(choices) < 2:
        raise DomainError("A single-choice field needs at least two comma-separated choices.")
    position = session.scalar(select(func.count(CustomField.id)))
    field = CustomField(**values, choices=choices, position=position)
    session.add(field)
    session.flush()
    history.log(session, "custom_field", field.id, actor.id, "create", new=f"{field.record_type}: {field.label}")
    return field


def delete_custom_field(session: Session, actor: User, field: CustomField) -> None:
    """Removes the definition; stored values stay in the records' JSON (nothing is lost)."""
    history.log(session, "custom_field", field.id, actor.id, "delete", old=f"{field.record_type}: {field.label}")
    session.delete(field)


def add_team(session: Session, actor: User, name: str) -> Team:
    if session.scalar(select(Team.id).where(func.lower(Team.name) == name.strip().lower())):
        raise DomainError(f"The team {name!r} exists already.")
    team = Team(name=name.strip())
    session.add(team)
    session.flush()
    history.log(session, "team", team.id, actor.id, "create", new=team.name)
    return team
