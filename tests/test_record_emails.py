"""Record pages: logged emails (also those carried from a deal) and the contact and organization a
lead carries, linked with the person's email and phone."""
from datetime import datetime

import pytest
from sqlalchemy import exists, select

from crm.extensions import db
from crm.models import Contact, Deal, EmailMessage, HistoryEvent, Lead, Organization
from crm.services import DomainError, PermissionDenied, engagement
from crm.services.conversion import convert_deal_to_lead
from crm.services.record_types import DEAL, LEAD
from tests.conftest import user

HTMX = {"HX-Request": "true"}


def open_lead(owner_email: str = "rep1@example.com") -> Lead:
    """An open lead of that owner without any logged email yet (the demo data logs some)."""
    return db.session.scalar(select(Lead).where(Lead.owner_id == user(owner_email).id, Lead.deleted_at.is_(None),
                                                Lead.converted_at.is_(None), ~exists().where(EmailMessage.lead_id == Lead.id))
                             .order_by(Lead.id))


def test_logging_an_email_stores_it_and_writes_history(app, admin):
    lead = open_lead()
    engagement.log_email(db.session, LEAD, lead, " Offer for 12 vans ", "ana@example.com", lead.email,
                         "2026-03-02T10:30", "Hello,\nthe offer is attached.", admin)
    db.session.commit()
    email = db.session.scalar(select(EmailMessage).where(EmailMessage.lead_id == lead.id))
    assert (email.subject, email.sender, email.recipient) == ("Offer for 12 vans", "ana@example.com", lead.email)
    assert email.sent_at == datetime(2026, 3, 2, 10, 30) and email.body == "Hello,\nthe offer is attached."
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.record_type == "lead",
                                                         HistoryEvent.record_id == lead.id, HistoryEvent.kind == "email"))
    assert event.new == "Offer for 12 vans" and event.actor_id == admin.id


@pytest.mark.parametrize("subject, sent, message", [("  ", "", "subject"), ("Hi", "2026-13-40T10:00", "not a date"),
                                                     ("Hi", "0001-01-01T00:00", "not a date"), ("x" * 256, "", "too long")])
def test_a_bad_email_is_refused_and_nothing_is_logged(app, admin, subject, sent, message):
    lead = open_lead()
    with pytest.raises(DomainError, match=message):
        engagement.log_email(db.session, LEAD, lead, subject, "", "", sent, "", admin)
    assert db.session.scalar(select(EmailMessage).where(EmailMessage.lead_id == lead.id)) is None


def test_a_rep_cannot_log_an_email_on_another_teams_lead(app):
    with pytest.raises(PermissionDenied):
        engagement.log_email(db.session, LEAD, open_lead("rep4@example.com"), "Hi", "", "", "", "", user("rep1@example.com"))


def test_the_record_page_shows_emails_and_the_form_logs_one(client, auth):
    lead = open_lead()
    auth.login("rep1@example.com")
    response = client.post(f"/leads/{lead.id}/emails", headers=HTMX, data={
        "subject": "Visit on Friday", "sender": "rep1@example.com", "recipient": "buyer@example.com",
        "sent_at": "2026-04-01T09:15", "body": "See you at 10."})
    side = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in side
    assert 'id="record-side"' in side and "Visit on Friday" in side and "buyer@example.com" in side
    assert "See you at 10." in side and 'hx-swap-oob="true"' in side and "email logged: Visit on Friday" in side
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="emails-heading">Emails' in page and "Visit on Friday" in page and "Log email" in page


def test_without_javascript_logging_an_email_comes_back_to_the_record(client, auth):
    lead = open_lead()
    auth.login("rep1@example.com")
    response = client.post(f"/leads/{lead.id}/emails", data={"subject": "No JS", "sender": "", "recipient": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leads/{lead.id}")
    refused = client.post(f"/leads/{lead.id}/emails", data={"subject": ""}, follow_redirects=True)
    assert "An email needs a subject" in refused.get_data(as_text=True)
    assert db.session.scalars(select(EmailMessage.subject).where(EmailMessage.lead_id == lead.id)).all() == ["No JS"]


@pytest.mark.parametrize("plural", ["deals", "contacts", "organizations"])
def test_every_record_page_has_an_emails_section(client, auth, plural):
    auth.login()
    assert 'id="emails-heading">Emails' in client.get(f"/{plural}/1").get_data(as_text=True)


def test_emails_carried_from_a_deal_show_on_the_lead_with_its_contact_linked(client, auth, admin):
    deal = db.session.scalar(select(Deal).where(Deal.contact_id.is_not(None), Deal.organization_id.is_not(None),
                                                Deal.deleted_at.is_(None)).order_by(Deal.id))
    contact, org = db.session.get(Contact, deal.contact_id), db.session.get(Organization, deal.organization_id)
    contact.phone = "+46 31 123 45 67"
    db.session.add(EmailMessage(deal_id=deal.id, subject="Quote v2", sender="a@b.se", recipient=contact.email,
                                body="Attached."))
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    auth.login()
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Quote v2" in page and "Attached." in page
    assert f'<a href="/contacts/{contact.id}">{contact.name}</a>' in page
    assert f'<a href="mailto:{contact.email}">' in page and '<a href="tel:+46 31 123 45 67">' in page
    assert f'<a href="/organizations/{org.id}">{org.name}</a>' in page


def test_a_linked_contact_someone_may_not_open_is_not_shown(client, auth):
    lead = open_lead()
    stranger = db.session.scalar(select(Contact).where(Contact.owner_id == user("rep4@example.com").id))
    lead.contact_id = stranger.id
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert f"/contacts/{stranger.id}" not in page and "Linked contact" not in page
