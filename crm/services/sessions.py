"""Ending logins: every session of a user ends when they log out, change password or are deactivated."""
from sqlalchemy import update
from sqlalchemy.orm import Session

from crm.models import User


def end_all_sessions(session: Session, user: User) -> None:
    """Invalidate every session and remember-me cookie of `user` (one atomic UPDATE)."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_version=User.session_version + 1)
                    .execution_options(synchronize_session=False))
    session.expire(user, ["session_version"])
