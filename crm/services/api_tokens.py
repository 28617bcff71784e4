"""API tokens: shown once, stored as a SHA-256 digest, with a scope, an expiry and a last use."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import Role, User
from crm.models.api import READ, READ_WRITE, ApiClient, ApiToken
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied

SCOPES = (READ, READ_WRITE)
LAST_USED_EVERY = timedelta(minutes=1)  # last use is written at most this often (not on every call)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token's user, its scope and, for an integration, its client."""

    user: User
    token: ApiToken

    @property
    def may_write(self) -> bool:
        return self.token.scope == READ_WRITE

    @property
    def client(self) -> ApiClient | None:
        return self.token.client


def issue_token(session: Session, user: User, name: str = "CLI", scope: str = READ_WRITE,
                expires_at: datetime | None = None, client: ApiClient | None = None) -> str:
    """A new token for `user`; the clear text is returned once and never stored."""
    name = " ".join(name.split())[:80]
    if not name:
        raise DomainError(_("Give the token a name."))
    if scope not in SCOPES:
        raise DomainError(_("Unknown scope “%(scope)s”: use read or read-write.", scope=scope))
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError(_("The expiry date must be in the future."))
    token = "crm_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, scope=scope, token_hash=_digest(token),
                         expires_at=expires_at, client=client))
    session.flush()
    return token


def caller_for_token(session: Session, token: str) -> Caller | None:
    """The caller a token stands for, if it is live (not revoked, not expired, user active)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now) \
            or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return Caller(row.user, row)


def user_for_token(session: Session, token: str) -> User | None:
    """The token's user (the first API, /api, reads with it)."""
    caller = caller_for_token(session, token)
    return caller.user if caller else None


def tokens_shown_to(viewer: User) -> Select:
    """The personal tokens a viewer manages: their own; an admin's view holds everyone's."""
    stmt = select(ApiToken).where(ApiToken.client_id.is_(None)).order_by(ApiToken.created_at.desc(),
                                                                         ApiToken.id.desc())
    return stmt if viewer.role == Role.ADMIN else stmt.where(ApiToken.user_id == viewer.id)


def revoke(session: Session, token: ApiToken, viewer: User) -> None:
    """Revoke a token now: its owner may, and any admin."""
    if token.user_id != viewer.id and viewer.role != Role.ADMIN:
        raise PermissionDenied(_("You may revoke only your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def live(stmt: Select) -> Select:
    """Only tokens that still work."""
    return stmt.where(ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None),
                                                         ApiToken.expires_at > utcnow()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
