"""Deal -> lead, as Pipedrive does it: the deal goes to the trash (restorable), a lead takes its place.

Idempotent by construction: each conversion first *claims* its deals with a conditional UPDATE
(`... WHERE deleted_at IS NULL`) and goes on only with the rows that UPDATE changed. A double
click or a second tab runs the same UPDATE after the first one committed (PostgreSQL re-checks the
WHERE after the row lock, SQLite serialises writers), changes nothing and so creates nothing.

Set-based (INSERT ... SELECT ... RETURNING, UPDATEs over id lists) so one deal and 10,000 deals
take the same code path, chunk by chunk.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, case, cast, func, insert, literal, select, update
from sqlalchemy.orm import Session

from crm.i18n import _
from crm.models import Activity, Batch, Contact, Deal, HistoryEvent, Job, Lead, Organization, User
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import history, jobs, scoring
from crm.services.wording import count_phrase
from crm.services.conversion.shared import ATTACHED
from crm.services.filters import Filter, filtered_select
from crm.services.lead_statuses import first_status
from crm.services.owners import resolve_owner
from crm.services.permissions import require_edit, visible_clause
from crm.services.record_types import DEAL
from crm.services.settings import leads_enabled

CHUNK = 1000
INLINE_LIMIT = 200  # larger deal -> lead batches run as a background job
LEAD_SOURCE = "Deal"

@dataclass
class DealConversion:
    lead: Lead
    created: bool  # False when an earlier request had already converted the deal


@dataclass
class BulkConversion:
    converted: int
    skipped: int
    batch_id: str | None = None
    lead_ids: list[int] = field(default_factory=list)


def may_convert_deals(session: Session, user: User) -> bool:
    """Admins, and users holding the "convert deals to leads" permission, where leads are on."""
    return leads_enabled(session, user) and (user.is_admin or user.can_convert_deals)


def convert_deal_to_lead(session: Session, deal: Deal, actor: User) -> DealConversion:
    """Turn one deal into a lead in the inbox; the deal goes to the trash (restorable)."""
    _guard_deal_conversion(session, actor)
    require_edit(actor, deal)
    batch = history.open_batch(session, actor.id, "convert", "deal", 1,  # one action, one feed entry
                               _("%(actor)s converted the deal “%(title)s” to a lead", actor=actor.name,
                                 title=deal.title))
    pairs = _convert_deal_chunk(session, [deal.id], actor, batch.id)
    session.expire(deal)
    if pairs:
        return DealConversion(session.get(Lead, pairs[0][1]), created=True)
    history.discard_batch(session, batch)
    earlier = _lead_from(session, deal.id)
    if earlier is None or deal.deleted_at is None:
        raise DomainError("This deal is in the trash: restore it before converting it.")
    return DealConversion(earlier, created=False)


def deal_ids_for(session: Session, flt: Filter, actor: User) -> list[int]:
    """The deals a selection or filter names that the actor may convert (THE filter builder)."""
    if flt.errors:
        raise DomainError(" ".join(flt.errors))
    stmt = filtered_select(DEAL, flt, actor, for_edit=True, columns=(Deal.id,)).order_by(Deal.id)
    return list(session.scalars(stmt))


def convert_deals_to_leads(session: Session, deal_ids: list[int], actor: User,
                           *, job: Job | None = None) -> BulkConversion:
    """Convert many deals in chunks, as one batch (one feed entry); commits per chunk in a job."""
    _guard_deal_conversion(session, actor)
    batch = history.open_batch(session, actor.id, "convert", "deal", len(deal_ids),
                               _batch_summary(actor, len(deal_ids)))
    if job is not None:
        jobs.record_batch(session, job, batch)
    lead_ids: list[int] = []
    for start in range(0, len(deal_ids), CHUNK):
        pairs = _convert_deal_chunk(session, deal_ids[start:start + CHUNK], actor, batch.id)
        lead_ids += [lead_id for _deal_id, lead_id in pairs]
        if job is not None:
            jobs.progress(session, job, min(start + CHUNK, len(deal_ids)),
                          f"{len(lead_ids):,} deals converted so far.")
            session.commit()
    _close_batch(session, batch, actor, len(lead_ids))
    return BulkConversion(len(lead_ids), len(deal_ids) - len(lead_ids), batch.id, lead_ids)


def convert_deals_job(session: Session, job: Job, *, ids: list[int], link: str) -> None:
    """Background job: convert the deals the user confirmed (those still theirs to convert), reporting progress."""
    actor = session.get(User, job.actor_id)
    deal_ids = sorted(int(i) for i in ids)
    job.total = len(deal_ids)
    result = convert_deals_to_leads(session, deal_ids, actor, job=job)
    jobs.finish(session, job, conversion_message(result), link=link,
                result={"converted": result.converted, "skipped": result.skipped,
                        "batch_id": result.batch_id})


def conversion_message(result: BulkConversion) -> str:
    text = f"{count_phrase(result.converted, DEAL)} converted to leads."
    if result.skipped:
        text += f" {result.skipped:,} skipped (already converted or in the trash)."
    return text


def _guard_deal_conversion(session: Session, actor: User) -> None:
    if not leads_enabled(session, actor):
        raise PermissionDenied("Leads are switched off, so deals cannot be converted to leads.")
    if not (actor.is_admin or actor.can_convert_deals):
        raise PermissionDenied("You do not have the permission to convert deals to leads.")


def _convert_deal_chunk(session: Session, deal_ids: list[int], actor: User,
                        batch_id: str | None) -> list[tuple[int, int]]:
    """(deal id, new lead id) for each deal of the chunk this request claimed."""
    now = utcnow()
    claimed = _claim_deals(session, deal_ids, actor, now, batch_id)
    if not claimed:
        return []
    owner = resolve_owner(session, f"user:{actor.id}", actor, "lead")  # the converter takes the leads
    created = _insert_leads(session, claimed, owner, now)
    _move_deal_children(session, claimed)
    scoring.rescore(session, [lead_id for lead_id, _deal_id in created])
    _log_deal_conversions(session, [lead_id for lead_id, _deal_id in created], actor, now, batch_id)
    return sorted((deal_id, lead_id) for lead_id, deal_id in created)


def _claim_deals(session: Session, deal_ids: list[int], actor: User, now: datetime,
                 batch_id: str | None) -> list[int]:
    """Trash the deals not yet trashed, returning the ids this statement changed."""
    stmt = (update(Deal)
            .where(Deal.id.in_(deal_ids), Deal.deleted_at.is_(None),
                   visible_clause(Deal, actor, for_edit=True))
            .values(deleted_at=now, deleted_batch_id=batch_id)
            .returning(Deal.id)
            .execution_options(synchronize_session=False))
    return sorted(session.scalars(stmt))


def _const(value, type_):
    """A typed constant for INSERT ... SELECT (psycopg renders the type, so NULL is typed too).

    Not CAST(): SQLite's CAST(... AS DATETIME) turns a timestamp into a number.
    """
    return literal(value, type_)


def _insert_leads(session: Session, deal_ids: list[int], owner: User,
                  now: datetime) -> list[tuple[int, int]]:
    """One lead per deal in one INSERT ... SELECT; returns (lead id, deal id)."""
    contact = select(Contact).where(Contact.id == Deal.contact_id).correlate(Deal)
    org_name = select(Organization.name).where(Organization.id == Deal.organization_id).correlate(Deal)
    contact_email = contact.with_only_columns(Contact.email).scalar_subquery()
    contact_phone = contact.with_only_columns(Contact.phone).scalar_subquery()
    columns = {
        "title": Deal.title, "value": Deal.value, "currency": Deal.currency,
        "expected_close": Deal.expected_close, "description": Deal.description,
        "person_name": func.coalesce(contact.with_only_columns(Contact.name).scalar_subquery(), ""),
        "company_name": func.coalesce(org_name.scalar_subquery(), ""),
        "email": case((Deal.email != "", Deal.email), else_=func.coalesce(contact_email, "")),
        "phone": case((Deal.phone != "", Deal.phone), else_=func.coalesce(contact_phone, "")),
        "source": _const(LEAD_SOURCE, String), "tags": _const("", String),
        "status_id": _const(first_status(session, "open"), Integer),
        "owner_id": _const(owner.id, Integer), "team_id": _const(owner.team_id, Integer),
        "contact_id": Deal.contact_id, "organization_id": Deal.organization_id,
        "origin_deal_id": Deal.id, "custom": Deal.custom,
        "address": Deal.address, "city": Deal.city, "country": Deal.country,
        "lat": Deal.lat, "lng": Deal.lng, "territory_id": Deal.territory_id,
        "created_at": _const(now, DateTime), "updated_at": _const(now, DateTime),
    }
    source = select(*columns.values()).where(Deal.id.in_(deal_ids)).order_by(Deal.id)
    stmt = insert(Lead).from_select(list(columns), source).returning(Lead.id, Lead.origin_deal_id)
    return [tuple(row) for row in session.execute(stmt)]


def _move_deal_children(session: Session, deal_ids: list[int]) -> None:
    """Notes, emails and open activities follow the lead; done activities stay with the deal."""
    for model in ATTACHED:
        newest_lead = (select(func.max(Lead.id)).where(Lead.origin_deal_id == model.deal_id)
                       .correlate(model).scalar_subquery())  # a deal converted again after a restore
        where = [model.deal_id.in_(deal_ids)]
        if model is Activity:
            where.append(Activity.done.is_(False))
        session.execute(update(model).where(*where).values(lead_id=newest_lead, deal_id=None)
                        .execution_options(synchronize_session=False))


def _log_deal_conversions(session: Session, lead_ids: list[int], actor: User, now: datetime,
                          batch_id: str | None) -> None:
    """Per pair: the lead's "create" and "convert" events and the deal's "convert" event, set-based."""
    def event(record_type: str, record_id, kind: str, field_name=None, other=None, text=None):
        return [_const(record_type, String), record_id, _const(actor.id, Integer), _const(now, DateTime),
                _const(kind, String), _const(field_name, String),
                cast(other, String) if other is not None else _const(None, String),
                text if text is not None else _const(None, String), _const(batch_id, String)]

    columns = ["record_type", "record_id", "actor_id", "at", "kind", "field", "old", "new", "batch_id"]
    pairs = select(Lead, Deal).join(Deal, Deal.id == Lead.origin_deal_id).where(Lead.id.in_(lead_ids))
    for values in (
        event("lead", Lead.id, "create"),
        event("lead", Lead.id, "convert", "deal", Deal.id, "from deal “" + Deal.title + "”"),
        event("deal", Deal.id, "convert", "lead", Lead.id,
              "to lead “" + Lead.title + "”; the deal went to the trash"),
    ):
        session.execute(insert(HistoryEvent).from_select(columns, pairs.with_only_columns(*values)))


def _lead_from(session: Session, deal_id: int) -> Lead | None:
    return session.scalar(select(Lead).where(Lead.origin_deal_id == deal_id)
                          .order_by(Lead.id.desc()).limit(1))


def _batch_summary(actor: User, count: int) -> str:
    return f"{actor.name} converted {count_phrase(count, DEAL)} to leads"


def _close_batch(session: Session, batch: Batch, actor: User, converted: int) -> None:
    """The feed entry states what really happened (some deals may have been claimed elsewhere)."""
    if converted != batch.count:
        history.close_batch(session, batch, converted, _batch_summary(actor, converted))
