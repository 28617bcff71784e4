import enum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from crm.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    REP = "rep"


class Team(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    leads_enabled: Mapped[bool] = mapped_column(default=True)

    members: Mapped[list["User"]] = relationship(back_populates="team")

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP)
    active: Mapped[bool] = mapped_column(default=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    can_convert_deals: Mapped[bool] = mapped_column(default=True)
    # Changes on logout, a password change and deactivation: every login of the user ends (crm/auth/sessions.py).
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The language the user chose (crm.i18n.LANGUAGES); None follows the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(8))

    team: Mapped[Team | None] = relationship(back_populates="members")

    login_token = None  # the current login's token (crm/auth/sessions.py), not a column

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the login's token
        (a bare id, which no longer logs anyone in, when the user was not loaded from a login)."""
        return self.login_token or str(self.id)

    def __eq__(self, other) -> bool:  # UserMixin compares get_id(), which now differs per login
        return isinstance(other, User) and other.id == self.id

    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def __str__(self) -> str:
        return self.name


class Setting(db.Model):
    """Global key/value settings, such as `use_leads` (Odoo's "Leads" switch)."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
