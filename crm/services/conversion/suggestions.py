"""What the Convert dialog suggests: similar leads and deals, and customers to link to."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm.models import Contact, Deal, Lead, Organization, User
from crm.services.duplicates import find_similar
from crm.services.permissions import visible_clause
from crm.services.record_types import LEAD

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
