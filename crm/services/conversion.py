"""THE conversion service: deal -> lead (as Pipedrive does it) and lead -> contact + organization
(+ deal) (as Odoo and Salesforce do it).

Both are idempotent by construction. Each conversion first *claims* its source rows with a
conditional UPDATE (`... WHERE deleted_at IS NULL` for deals, `... WHERE converted_at IS NULL`
for leads) and goes on only with the rows that UPDATE changed. A double click or a second tab
runs the same UPDATE after the first one committed (PostgreSQL re-checks the WHERE after the row
lock, SQLite serialises writers), changes nothing and so creates nothing.

Deal -> lead is set-based (INSERT ... SELECT ... RETURNING, UPDATEs over id lists) so one deal and
10,000 deals take the same code path, chunk by chunk.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Integer, String, case, cast, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from crm.models import (
    Activity, Batch, Contact, Deal, EmailMessage, HistoryEvent, Job, Lead, LeadStatus, Note,
    Organization, Stage, User,
)
from crm.models.mixins import utcnow
from crm.services import DomainError, PermissionDenied
from crm.services import history, jobs
from crm.services.editing import create_record
from crm.services.filters import filtered_select, parse_filter
from crm.services.owners import resolve_owner
from crm.services.permissions import can_view, require_edit, visible_clause
from crm.services.bulk import count_phrase
from crm.services.duplicates import find_similar
from crm.services.lead_statuses import first_status
from crm.services.record_types import CONTACT, DEAL, LEAD, ORGANIZATION
from crm.services.settings import leads_enabled

CHUNK = 1000
INLINE_LIMIT = 200  # larger deal -> lead batches run as a background job
LEAD_SOURCE = "Deal"
ATTACHED = (Note, EmailMessage, Activity)


class AlreadyConverted(DomainError):
    """The source was converted by an earlier request (double click, second tab)."""


# --------------------------------------------------------------------------- deal -> lead

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
    pairs = _convert_deal_chunk(session, [deal.id], actor, batch_id=None)
    session.expire(deal)
    if pairs:
        return DealConversion(session.get(Lead, pairs[0][1]), created=True)
    earlier = _lead_from(session, deal.id)
    if earlier is None or deal.deleted_at is None:
        raise DomainError("This deal is in the trash: restore it before converting it.")
    return DealConversion(earlier, created=False)


def deal_ids_for(session: Session, args: MultiDict, actor: User) -> list[int]:
    """The deals a selection or filter names that the actor may convert (THE filter builder)."""
    flt = parse_filter(session, DEAL, args, actor)
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


def convert_deals_job(session: Session, job: Job, *, args: list[list[str]], link: str) -> None:
    """Background job: convert the deals the filter/selection `args` names, reporting progress."""
    actor = session.get(User, job.actor_id)
    deal_ids = deal_ids_for(session, MultiDict(args), actor)
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
    created = _insert_leads(session, claimed, actor, now)
    _move_deal_children(session, claimed)
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


def _insert_leads(session: Session, deal_ids: list[int], actor: User,
                  now: datetime) -> list[tuple[int, int]]:
    """One lead per deal in one INSERT ... SELECT; returns (lead id, deal id)."""
    contact = select(Contact).where(Contact.id == Deal.contact_id).correlate(Deal)
    org_name = select(Organization.name).where(Organization.id == Deal.organization_id).correlate(Deal)
    contact_email = contact.with_only_columns(Contact.email).scalar_subquery()
    contact_phone = contact.with_only_columns(Contact.phone).scalar_subquery()
    columns = {
        "title": Deal.title, "value": Deal.value, "description": Deal.description,
        "person_name": func.coalesce(contact.with_only_columns(Contact.name).scalar_subquery(), ""),
        "company_name": func.coalesce(org_name.scalar_subquery(), ""),
        "email": case((Deal.email != "", Deal.email), else_=func.coalesce(contact_email, "")),
        "phone": case((Deal.phone != "", Deal.phone), else_=func.coalesce(contact_phone, "")),
        "source": _const(LEAD_SOURCE, String), "tags": _const("", String),
        "status_id": _const(first_status(session, "open"), Integer),
        "owner_id": _const(actor.id, Integer), "team_id": _const(actor.team_id, Integer),
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


# --------------------------------------------------------------------------- lead -> contact, organization, deal

CUSTOMER_CHOICES = (("new", "Create a new contact/organization"), ("link", "Link to an existing"),
                    ("none", "Do not link"))


@dataclass
class LeadPlan:
    """What the Convert dialog asked for."""

    owner: str = ""  # an owner choice: "user:3" (or "pool:2" once pools exist)
    customer: str = "new"  # new | link | none
    contact_id: int | None = None
    organization_id: int | None = None
    create_deal: bool = True
    stage_id: int | None = None
    value: Decimal | None = None


@dataclass
class LeadConversion:
    lead: Lead
    contact: Contact | None
    organization: Organization | None
    deal: Deal | None


def convert_lead(session: Session, lead: Lead, actor: User, plan: LeadPlan) -> LeadConversion:
    """Contact + organization (+ deal) from a lead, linked together; the lead becomes read-only."""
    _guard_lead(lead, actor)
    stage = _check_plan(session, plan)
    linked = _linked_customer(session, plan, actor)
    owner = resolve_owner(session, plan.owner, actor, "deal") or actor  # ONCE: a pool advances
    now = utcnow()
    _claim_lead(session, lead, now)
    if plan.customer == "link":
        contact, org = linked[0] or _new_contact_in(session, lead, linked[1], owner, actor), linked[1]
    else:
        contact, org = _new_customer(session, lead, owner, actor, plan)
    deal = _new_deal(session, lead, stage, plan, contact, org, owner, actor) if stage else None
    _move_lead_children(session, lead, contact, org, deal)
    _mark_converted(session, lead, contact, org, deal)
    _log_lead_conversion(session, lead, (contact, org, deal), actor, now)
    return LeadConversion(lead, contact, org, deal)


def _guard_lead(lead: Lead, actor: User) -> None:
    require_edit(actor, lead)
    if lead.deleted_at is not None:
        raise DomainError("This lead is in the trash: restore it before converting it.")
    if lead.converted_at is not None:
        raise AlreadyConverted("This lead was already converted.")


def _check_plan(session: Session, plan: LeadPlan) -> Stage | None:
    if plan.customer not in dict(CUSTOMER_CHOICES):
        raise DomainError("Choose how to handle the customer: create, link or do not link.")
    if not plan.create_deal:
        return None
    stage = session.get(Stage, plan.stage_id) if plan.stage_id else None
    if stage is None:
        raise DomainError("Choose the pipeline stage of the new deal.")
    if plan.value is not None and plan.value < 0:
        raise DomainError("The deal value cannot be negative.")
    return stage


def _linked_customer(session: Session, plan: LeadPlan, actor: User):
    if plan.customer != "link":
        return None, None
    contact = session.get(Contact, plan.contact_id) if plan.contact_id else None
    org = session.get(Organization, plan.organization_id) if plan.organization_id else None
    for record, label in ((contact, "contact"), (org, "organization")):
        if record is not None and (record.deleted_at is not None or not can_view(actor, record)):
            raise DomainError(f"That {label} cannot be linked: it is in the trash or not yours to see.")
    if contact is None and org is None:
        raise DomainError("Choose the contact or organization to link to.")
    if org is None and contact.organization_id:
        org = session.get(Organization, contact.organization_id)
    return contact, org


def _claim_lead(session: Session, lead: Lead, now: datetime) -> None:
    result = session.execute(update(Lead).where(Lead.id == lead.id, Lead.converted_at.is_(None),
                                                Lead.deleted_at.is_(None))
                             .values(converted_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.expire(lead)
        raise AlreadyConverted("This lead was already converted.")


def _place(lead: Lead) -> dict:
    return dict(address=lead.address, city=lead.city, country=lead.country, lat=lead.lat,
                lng=lead.lng, territory_id=lead.territory_id)


def _new_customer(session: Session, lead: Lead, owner: User, actor: User, plan: LeadPlan):
    if plan.customer == "none":
        return None, None
    base = dict(owner_id=owner.id, source=lead.source, **_place(lead))
    org = None
    if lead.company_name.strip():
        org = create_record(session, ORGANIZATION, dict(name=lead.company_name.strip(), **base), actor)
    return _new_contact_in(session, lead, org, owner, actor), org


def _new_contact_in(session: Session, lead: Lead, org: Organization | None, owner: User, actor: User
                    ) -> Contact | None:
    """The lead's person as a new contact of `org`; also when an existing organization is linked
    without a contact (otherwise the deal would have no contact person and the person is lost)."""
    name = lead.person_name.strip() or lead.email
    if not name:
        return None
    return create_record(session, CONTACT, dict(
        name=name, email=lead.email, phone=lead.phone, organization_id=org.id if org else None, owner_id=owner.id,
        source=lead.source, **_place(lead)), actor)


def _new_deal(session: Session, lead: Lead, stage: Stage, plan: LeadPlan, contact, org,
              owner: User, actor: User) -> Deal:
    return create_record(session, DEAL, dict(
        title=lead.title, value=plan.value if plan.value is not None else lead.value,
        pipeline_id=stage.pipeline_id, stage_id=stage.id, contact_id=contact.id if contact else None,
        organization_id=org.id if org else None, owner_id=owner.id, source=lead.source,
        email=lead.email, phone=lead.phone, description=lead.description,
        custom=dict(lead.custom or {}), **_place(lead)), actor)


def _move_lead_children(session: Session, lead: Lead, contact, org, deal) -> None:
    """Activities, notes and emails move to what the lead became (they stay if it became nothing)."""
    if not (contact or org or deal):
        return
    for model in ATTACHED:
        values = {"lead_id": None}
        for column, record in (("deal_id", deal), ("contact_id", contact), ("organization_id", org)):
            if record is not None:
                values[column] = record.id
        session.execute(update(model).where(model.lead_id == lead.id).values(**values)
                        .execution_options(synchronize_session=False))


def _mark_converted(session: Session, lead: Lead, contact, org, deal) -> None:
    session.refresh(lead)  # converted_at was set by the claiming UPDATE
    lead.status_id = first_status(session, "converted") or lead.status_id
    lead.converted_contact_id = contact.id if contact else None
    lead.converted_organization_id = org.id if org else None
    lead.converted_deal_id = deal.id if deal else None
    lead.contact_id = contact.id if contact else lead.contact_id
    lead.organization_id = org.id if org else lead.organization_id
    session.flush()


def _log_lead_conversion(session: Session, lead: Lead, results: Iterable, actor: User,
                         now: datetime) -> None:
    made = [(r, name) for r, name in zip(results, ("contact", "organization", "deal")) if r is not None]
    for record, name in made:
        title = getattr(record, "title", None) or record.name
        history.log(session, "lead", lead.id, actor.id, "convert", field=name, old=record.id,
                    new=f"into {name} “{title}”")
        history.log(session, name, record.id, actor.id, "convert", field="lead", old=lead.id,
                    new=f"from lead “{lead.title}”")
    if not made:
        history.log(session, "lead", lead.id, actor.id, "convert", new="marked converted")


# --------------------------------------------------------------------------- dialog helpers

@dataclass
class Similar:
    """A lead or deal like the one being converted, and why (the duplicate check's reasons)."""

    record: Lead | Deal
    why: str


def similar_records(session: Session, lead: Lead, viewer: User) -> tuple[list[Similar], list[Similar]]:
    """Open leads (the merge feature's duplicate check, or the same email) and deals of the same
    customer (same email, or a contact with it), each with the reason it is listed."""
    email = (lead.email or "").strip().lower()
    why = {m.id: m.why for m in find_similar(session, LEAD, lead, viewer, limit=10)}
    same = [Lead.id.in_(list(why))]
    if email:
        same.append(func.lower(Lead.email) == email)
    leads = session.scalars(select(Lead).where(
        or_(*same), Lead.id != lead.id, Lead.deleted_at.is_(None), Lead.converted_at.is_(None),
        Lead.merged_into_id.is_(None), visible_clause(Lead, viewer)).order_by(Lead.id).limit(10)).all()
    similar_leads = [Similar(other, why.get(other.id) or "same email") for other in leads]
    if not email:
        return similar_leads, []
    deal_contacts = select(Contact.id).where(func.lower(Contact.email) == email)
    deals = session.scalars(select(Deal).where(
        or_(func.lower(Deal.email) == email, Deal.contact_id.in_(deal_contacts)),
        Deal.deleted_at.is_(None), visible_clause(Deal, viewer)).order_by(Deal.id).limit(10)).all()
    return similar_leads, [Similar(deal, "same email" if (deal.email or "").strip().lower() == email
                                   else "its contact has the same email") for deal in deals]


def customer_suggestions(session: Session, lead: Lead, viewer: User
                         ) -> tuple[list[Contact], list[Organization]]:
    """Existing contacts (by email, phone) and organizations (by company name, phone) to link to."""
    contact_match = [Contact.id == lead.contact_id] if lead.contact_id else []
    if lead.email:
        contact_match.append(func.lower(Contact.email) == lead.email.strip().lower())
    if lead.phone:
        contact_match.append(Contact.phone == lead.phone.strip())
    org_match = [Organization.id == lead.organization_id] if lead.organization_id else []
    if lead.company_name.strip():
        org_match.append(func.lower(Organization.name) == lead.company_name.strip().lower())
    if lead.phone:
        org_match.append(Organization.phone == lead.phone.strip())
    contacts = session.scalars(select(Contact).where(
        or_(*contact_match), Contact.deleted_at.is_(None), visible_clause(Contact, viewer))
        .order_by(Contact.name).limit(8)).all() if contact_match else []
    orgs = session.scalars(select(Organization).where(
        or_(*org_match), Organization.deleted_at.is_(None), visible_clause(Organization, viewer))
        .order_by(Organization.name).limit(8)).all() if org_match else []
    return list(contacts), list(orgs)
