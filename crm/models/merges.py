"""What a merge did, kept so that Undo merge can put every record and child row back."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class MergeLink(db.Model):
    """One record merged into a survivor by a merge batch.

    Generic over record types (only leads have a `merged_into_id` column); the survivor's
    timeline follows these links to show the merged records' history.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    survivor_id: Mapped[int]
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_merge_link_survivor", "record_type", "survivor_id"),)


class MergeMove(db.Model):
    """A link a merge re-pointed to the survivor (an activity's lead_id, a deal's contact_id...).

    `target` is "table.column"; `old_value` is the id it pointed at before the merge.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"))
    target: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int]
    old_value: Mapped[int]

    __table_args__ = (Index("ix_merge_move_batch", "batch_id", "target", "row_id"),)
