"""API tokens: shown once, stored as a SHA-256 hash."""
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import User


def issue_token(session: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    user.api_token_hash = _digest(token)
    return token


def user_for_token(session: Session, token: str) -> User | None:
    user = session.scalar(select(User).where(User.api_token_hash == _digest(token)))
    return user if user is not None and user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
