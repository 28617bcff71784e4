"""Lead -> contact + organization (+ deal), as Odoo and Salesforce do it; the lead becomes read-only.

Idempotent like deal -> lead: the lead is claimed with `UPDATE ... WHERE converted_at IS NULL`
and only the request that changed the row goes on.
"""
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm.i18n import _, _l
from crm.models import Contact, Deal, Lead, Organization, Stage, Team, User
from crm.models.mixins import utcnow
from crm.services import DomainError
from crm.services import history
from crm.services.conversion.shared import ATTACHED, AlreadyConverted
from crm.services.editing import create_record
from crm.services.lead_statuses import first_status
from crm.services.owners import assign
from crm.services.permissions import can_view, require_edit
from crm.services.record_types import CONTACT, DEAL, ORGANIZATION

CUSTOMER_CHOICES = (("new", "Create a new contact/organization"), ("link", "Link to an existing"),
                    ("none", "Do not link"))


@dataclass
class LeadPlan:
    """What the Convert dialog asked for."""

    owner: str = ""  # an owner choice: "user:3", or a contact pool or (with a deal) a deal pool
    customer: str = "new"  # new | link | none
    contact_id: int | None = None
    organization_id: int | None = None
    create_deal: bool = True
    stage_id: int | None = None
    value: Decimal | None = None
    deal_title: str = ""  # "" : the lead's title
    team_id: int | None = None  # None: the salesperson's team

    @property
    def pool_types(self) -> tuple[str, ...]:
        """The pools whose next member may get what the conversion creates (all of it, together)."""
        return ("contact", "deal") if self.create_deal else ("contact",)


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
    team = _check_team(session, plan, actor)
    owner = _owner(session, plan, actor, team)  # ONCE: a pool's one turn gives contact and deal the same person
    now = utcnow()
    _claim_lead(session, lead, now)
    batch = history.open_batch(session, actor.id, "convert", "lead", 1, "")  # one action, one feed entry
    owner = replace(owner, batch_id=batch.id)
    if plan.customer == "link":
        contact, org = linked[0] or _new_contact_in(session, lead, linked[1], owner, actor), linked[1]
    else:
        contact, org = _new_customer(session, lead, owner, actor, plan)
    deal = _new_deal(session, lead, stage, plan, contact, org, owner, actor) if stage else None
    _move_lead_children(session, lead, contact, org, deal)
    _mark_converted(session, lead, contact, org, deal)
    _log_lead_conversion(session, lead, (contact, org, deal), actor, batch.id)
    history.close_batch(session, batch, 1, _summary(lead, (contact, org, deal), actor))
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
    if len(plan.deal_title.strip()) > 200:
        raise DomainError(_l("A deal name can be at most 200 characters."))
    return stage


@dataclass(frozen=True)
class _Owner:
    """Who gets what the conversion creates: user, team (None: the user's) and the pool that chose them."""

    user: User
    team_id: int | None
    via: str | None
    batch_id: str | None = None  # the conversion's batch: its one feed entry

    def values(self) -> dict:
        team = {"team_id": self.team_id} if self.team_id is not None else {}
        return {"owner_id": self.user.id, **team}


def _owner(session: Session, plan: LeadPlan, actor: User, team: Team | None) -> _Owner:
    chosen = assign(session, plan.owner, actor, plan.pool_types)
    return _Owner(chosen.user or actor, team.id if team else None, chosen.via)


def _check_team(session: Session, plan: LeadPlan, actor: User) -> Team | None:
    """The chosen team: any for admins, otherwise the actor's own."""
    if plan.team_id is None:
        return None
    team = session.get(Team, plan.team_id)
    if team is None:
        raise DomainError(_l("That team does not exist."))
    if not actor.is_admin and team.id != actor.team_id:
        raise DomainError(_l("You can give what you convert to your own team only."))
    return team


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


def _new_customer(session: Session, lead: Lead, owner: _Owner, actor: User, plan: LeadPlan):
    if plan.customer == "none":
        return None, None
    org = None
    if lead.company_name.strip():
        org = create_record(session, ORGANIZATION, dict(
            name=lead.company_name.strip(), source=lead.source, **owner.values(), **_place(lead)),
            actor, owner_via=owner.via, batch_id=owner.batch_id)
    return _new_contact_in(session, lead, org, owner, actor), org


def _new_contact_in(session: Session, lead: Lead, org: Organization | None, owner: _Owner, actor: User
                    ) -> Contact | None:
    """The lead's person as a new contact of `org`; also when an existing organization is linked
    without a contact (otherwise the deal would have no contact person and the person is lost)."""
    name = lead.person_name.strip() or lead.email
    if not name:
        return None
    return create_record(session, CONTACT, dict(
        name=name, email=lead.email, phone=lead.phone, organization_id=org.id if org else None,
        source=lead.source, **owner.values(), **_place(lead)), actor, owner_via=owner.via, batch_id=owner.batch_id)


def _new_deal(session: Session, lead: Lead, stage: Stage, plan: LeadPlan, contact, org,
              owner: _Owner, actor: User) -> Deal:
    return create_record(session, DEAL, dict(
        title=plan.deal_title.strip() or lead.title, value=plan.value if plan.value is not None else lead.value,
        currency=lead.currency, expected_close=lead.expected_close,
        pipeline_id=stage.pipeline_id, stage_id=stage.id, contact_id=contact.id if contact else None,
        organization_id=org.id if org else None, source=lead.source, **owner.values(),
        email=lead.email, phone=lead.phone, description=lead.description,
        custom=dict(lead.custom or {}), **_place(lead)), actor, owner_via=owner.via, batch_id=owner.batch_id)


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


def _log_lead_conversion(session: Session, lead: Lead, results: Iterable, actor: User, batch_id: str) -> None:
    made = _made(results)
    for record, name in made:
        history.log(session, "lead", lead.id, actor.id, "convert", field=name, old=record.id,
                    new=f"into {name} “{_title(record)}”", batch_id=batch_id)
        history.log(session, name, record.id, actor.id, "convert", field="lead", old=lead.id,
                    new=f"from lead “{lead.title}”", batch_id=batch_id)
    if not made:
        history.log(session, "lead", lead.id, actor.id, "convert", new="marked converted", batch_id=batch_id)


def _made(results: Iterable) -> list[tuple]:
    return [(r, name) for r, name in zip(results, ("contact", "organization", "deal")) if r is not None]


def _title(record) -> str:
    return getattr(record, "title", None) or record.name


def _summary(lead: Lead, results: Iterable, actor: User) -> str:
    """The feed entry: "Admin converted the lead “X” into contact “A”, organization “B”, deal “C”"."""
    made = ", ".join(f"{name} “{_title(record)}”" for record, name in _made(results))
    if not made:
        return _("%(actor)s marked the lead “%(title)s” converted", actor=actor.name, title=lead.title)
    return _("%(actor)s converted the lead “%(title)s” into %(made)s", actor=actor.name, title=lead.title, made=made)
