"""Restoring a deal that was converted to a lead takes the conversion back: the customer should not
exist twice, once as the restored deal and once as its lead.

Run right after deals came out of the trash (one deal or a whole batch, the same set-based path).
For each restored deal whose last event before the restore is its conversion, the lead that
conversion created goes back to the trash and the notes, emails and open activities it took move
back to the deal, unless the lead was worked on since (edited, noted, converted, merged, trashed)
or the user may not change it: then it stays, and the message says so.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, and_, cast, exists, func, insert, literal, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from crm.models import Deal, HistoryEvent, Lead, User
from crm.models.mixins import utcnow
from crm.services import DomainError
from crm.services.conversion import ATTACHED, CHUNK
from crm.services.editing import restore_record
from crm.services.permissions import visible_clause
from crm.services.record_types import LEAD, RecordType
from crm.services.wording import count_phrase

NAMED = 3  # leads named in the message; more are counted


@dataclass
class LeadsBack:
    """The conversion leads of the restored deals: sent back to the trash, or kept."""

    trashed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def sentence(self, *, one_deal: bool) -> str:
        """What happened to the leads, to follow "Deal … restored." (empty when no deal was converted)."""
        parts = []
        if self.trashed and one_deal:
            parts.append(f"Its lead {_names(self.trashed)} went back to the trash with it; its notes, emails "
                         "and open activities are back on the deal.")
        elif self.trashed:
            parts.append(f"{count_phrase(len(self.trashed), LEAD)} made from them ({_names(self.trashed)}) went back to the trash "
                         "with them; their notes, emails and open activities are back on the deals.")
        if self.kept and one_deal:
            parts.append(f"Its lead {_names(self.kept)} stays, with its notes and activities: it was changed "
                         "since the conversion (or is not yours to change).")
        elif self.kept:
            parts.append(f"{count_phrase(len(self.kept), LEAD)} made from them ({_names(self.kept)}) "
                         f"{'stay' if len(self.kept) != 1 else 'stays'}, with their notes and activities: changed "
                         "since the conversion (or not yours to change).")
        return " ".join(parts)


def take_back_conversions(session: Session, restored_deal_ids, actor: User, *,
                          batch_id: str | None = None, now: datetime | None = None) -> LeadsBack:
    """Trash the untouched conversion leads of just-restored deals and move their children back."""
    now = now or utcnow()
    rows = session.execute(_conversion_leads(restored_deal_ids, actor)).all()
    untouched = [lead_id for lead_id, _title, keep in rows if not keep]
    for start in range(0, len(untouched), CHUNK):
        chunk = untouched[start:start + CHUNK]
        _log(session, chunk, actor, now, batch_id)
        _move_children_back(session, chunk)
        session.execute(update(Lead).where(Lead.id.in_(chunk))
                        .values(deleted_at=now, deleted_batch_id=None, updated_at=now)
                        .execution_options(synchronize_session=False))
    session.expire_all()
    return LeadsBack(trashed=[title for _id, title, keep in rows if not keep],
                     kept=[title for _id, title, keep in rows if keep])


def _conversion_leads(deal_ids, actor: User):
    """(lead id, title, keep) for each restored deal whose last event before the restore is its
    conversion: the newest lead made from it, still out of the trash."""
    last, conversion, newer_lead, since = (aliased(HistoryEvent), aliased(HistoryEvent), aliased(Lead),
                                           aliased(HistoryEvent))
    last_before_restore = (select(func.max(last.id))
                           .where(last.record_type == "deal", last.record_id == Lead.origin_deal_id,
                                  last.kind != "restore")
                           .correlate(Lead).scalar_subquery())
    converted_last = exists().where(conversion.id == last_before_restore, conversion.kind == "convert",
                                    conversion.field == "lead")
    newest = ~exists().where(newer_lead.origin_deal_id == Lead.origin_deal_id, newer_lead.id > Lead.id)
    # Anything but the conversion's own "create" and "convert from deal" events (notes and planned
    # activities are logged too).
    worked_on = exists().where(since.record_type == "lead", since.record_id == Lead.id,
                               not_(or_(since.kind == "create", and_(since.kind == "convert", since.field == "deal"))))
    keep = or_(worked_on, Lead.converted_at.is_not(None), not_(visible_clause(Lead, actor, for_edit=True)))
    return (select(Lead.id, Lead.title, keep)
            .where(Lead.origin_deal_id.in_(deal_ids), Lead.deleted_at.is_(None), newest, converted_last)
            .order_by(Lead.id))


def _move_children_back(session: Session, lead_ids: list[int]) -> None:
    """Everything on an untouched conversion lead came from its deal (the conversion moved it)."""
    for model in ATTACHED:
        deal = select(Lead.origin_deal_id).where(Lead.id == model.lead_id).correlate(model).scalar_subquery()
        session.execute(update(model).where(model.lead_id.in_(lead_ids)).values(deal_id=deal, lead_id=None)
                        .execution_options(synchronize_session=False))


def _log(session: Session, lead_ids: list[int], actor: User, now: datetime, batch_id: str | None) -> None:
    """Per pair: the lead's "delete" and the deal's "unconvert" event, set-based."""
    def event(record_type: str, record_id, kind: str, text):
        return [literal(record_type, String), record_id, literal(actor.id, Integer), literal(now, DateTime),
                literal(kind, String), literal("lead", String), cast(Lead.id, String), text,
                literal(batch_id, String)]

    columns = ["record_type", "record_id", "actor_id", "at", "kind", "field", "old", "new", "batch_id"]
    pairs = select(Lead, Deal).join(Deal, Deal.id == Lead.origin_deal_id).where(Lead.id.in_(lead_ids))
    for values in (
        event("lead", Lead.id, "delete", "with its deal “" + Deal.title + "”, which was restored"),
        event("deal", Deal.id, "unconvert",
              "conversion to lead “" + Lead.title + "” taken back: the lead went back to the trash; "
              "its notes, emails and open activities are back on the deal"),
    ):
        session.execute(insert(HistoryEvent).from_select(columns, pairs.with_only_columns(*values)))


def _names(titles: list[str]) -> str:
    named = ", ".join(f"“{t}”" for t in titles[:NAMED])
    return named if len(titles) <= NAMED else f"{named} and {len(titles) - NAMED:,} more"


def restore_one(session: Session, rtype: RecordType, record, actor: User) -> str:
    """Bring one record back from the trash (a converted deal takes its conversion back); the message.
    A lead whose deal is back out of the trash is refused: the opportunity would exist twice."""
    was_trashed = record.deleted_at is not None
    if rtype.name == "lead" and was_trashed:
        _refuse_duplicate(session, record)
    restore_record(session, record, actor)
    text = f"{rtype.label} “{getattr(record, rtype.title_column)}” restored."
    if rtype.name == "deal" and was_trashed:
        text = f"{text} {take_back_conversions(session, [record.id], actor).sentence(one_deal=True)}".rstrip()
    return text


def _refuse_duplicate(session: Session, lead: Lead) -> None:
    deal = session.get(Deal, lead.origin_deal_id) if lead.origin_deal_id else None
    if deal is not None and deal.deleted_at is None:
        raise DomainError(f"This lead came from deal “{deal.title}”, which was restored: restoring the lead "
                          "too would make a duplicate. Move the deal to the trash first to get the lead back.")


def live_origin_deal():
    """For a Lead query: the deal the lead was converted from is out of the trash (restoring the
    lead would make the opportunity exist twice)."""
    origin = aliased(Deal)
    return exists().where(origin.id == Lead.origin_deal_id, origin.deleted_at.is_(None))


def take_back_batch(session: Session, restore_batch_id: str, actor: User, count: int) -> str:
    """take_back_conversions for the deals a restore batch brought back; the sentence to add."""
    restored = select(HistoryEvent.record_id).where(HistoryEvent.batch_id == restore_batch_id,
                                                    HistoryEvent.record_type == "deal",
                                                    HistoryEvent.kind == "restore")
    back = take_back_conversions(session, restored, actor, batch_id=restore_batch_id)
    return back.sentence(one_deal=count == 1)
