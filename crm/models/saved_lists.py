from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.extensions import db
from crm.models.users import User


class SavedList(db.Model):
    """A named filter (a "smart list"): the query string of a list, private or shared with a team."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    record_type: Mapped[str] = mapped_column(String(20))
    query: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    shared: Mapped[bool] = mapped_column(default=False)

    owner: Mapped[User] = relationship()
