"""What a team reads on lists and record pages: sortable Source, Owner and Status columns, the contact a
lead carries (linked, with email and phone) and its emails."""
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, LeadStatus
from e2e.helpers import login


def test_sort_the_leads_list_by_status_then_by_source(page: Page, live_server, app_db):
    with app_db():
        first_lead = db.session.scalar(select(Lead).where(Lead.deleted_at.is_(None)).order_by(Lead.id))
        first_lead.source = "AAA fair"
        db.session.commit()
        first_id = first_lead.id
        statuses = [s.name for s in db.session.scalars(select(LeadStatus).order_by(LeadStatus.position))]
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server)
    page.goto(f"{live_server}/leads/?per_page=100")
    table = page.locator("table.records")
    table.get_by_role("link", name="Status").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Status")
    assert "sort=status" in page.url
    shown = table.locator("td[data-label=Status]").all_inner_texts()
    assert shown and [statuses.index(s.strip()) for s in shown] == sorted(statuses.index(s.strip()) for s in shown)

    table.get_by_role("link", name="Source").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Source")
    expect(table.locator("tbody tr").first).to_have_id(f"lead-{first_id}")
    table.get_by_role("link", name="Source ▲").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Source")

    table.get_by_role("link", name="Owner").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Owner")
    owners = [o.strip() for o in table.locator("td[data-label=Owner]").all_inner_texts()]
    named = [o for o in owners if o != "—"]
    assert named == sorted(named) and owners[:len(named)] == named


def _carried_lead(app_db) -> tuple[int, int, str, str]:
    """A deal with a contact and a logged email, converted to a lead: (lead, contact, email, phone)."""
    from crm.models import Contact, Deal, EmailMessage, User
    from crm.services.conversion import convert_deal_to_lead
    with app_db():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        deal = db.session.scalar(select(Deal).where(Deal.contact_id.is_not(None), Deal.deleted_at.is_(None))
                                 .order_by(Deal.id))
        contact = db.session.get(Contact, deal.contact_id)
        contact.phone = "+46 31 700 10 20"
        db.session.add(EmailMessage(deal_id=deal.id, subject="Quote for the fleet", sender="admin@example.com",
                                    recipient=contact.email, body="Twelve vans, delivery in May."))
        lead = convert_deal_to_lead(db.session, deal, admin).lead
        db.session.commit()
        return lead.id, contact.id, contact.email, contact.phone


@pytest.mark.parametrize("width", [1280, 375])
def test_a_lead_from_a_deal_links_its_contact_and_logs_an_email(page: Page, live_server, app_db, width):
    from crm.models import EmailMessage, HistoryEvent
    lead_id, contact_id, email, phone = _carried_lead(app_db)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server)
    page.goto(f"{live_server}/leads/{lead_id}")
    carried = page.get_by_role("region", name="Details").locator("dt:text-is('Linked contact') + dd")
    expect(carried.get_by_role("link", name=email)).to_have_attribute("href", f"mailto:{email}")
    expect(carried.get_by_role("link", name=phone)).to_have_attribute("href", f"tel:{phone}")
    emails = page.get_by_role("region", name="Emails")
    expect(emails).to_contain_text("Quote for the fleet")
    expect(emails).to_contain_text("Twelve vans, delivery in May.")

    emails.get_by_text("Log an email").click()
    emails.get_by_label("Subject").fill("Call notes sent")
    emails.get_by_label("To").fill("buyer@example.com")
    emails.get_by_label("Sent").fill("2026-05-04T08:30")
    emails.get_by_label("Message").fill("Summary of our call.")
    button = emails.get_by_role("button", name="Log email")
    box = button.bounding_box()
    assert width > 400 or (box["width"] >= 44 and box["height"] >= 44)
    button.click()
    emails = page.get_by_role("region", name="Emails")
    logged_item = emails.get_by_role("listitem").filter(has_text="Call notes sent")
    expect(logged_item).to_contain_text("to buyer@example.com")
    expect(logged_item).to_contain_text("Summary of our call.")
    expect(emails.get_by_role("listitem").last).to_contain_text("Call notes sent")  # sent in May: after December's
    expect(page.get_by_role("region", name="History")).to_contain_text("email logged: Call notes sent")
    with app_db():
        logged = db.session.scalar(select(EmailMessage).where(EmailMessage.subject == "Call notes sent"))
        assert (logged.lead_id, logged.recipient, logged.body) == (lead_id, "buyer@example.com", "Summary of our call.")
        assert db.session.scalar(select(HistoryEvent.new).where(HistoryEvent.record_id == lead_id,
                                                                HistoryEvent.kind == "email")) == "Call notes sent"
    carried.get_by_role("link").first.click()
    expect(page).to_have_url(f"{live_server}/contacts/{contact_id}")


def test_deal_to_lead_to_deal_keeps_the_currency_and_expected_close(page: Page, live_server, app_db):
    import re
    from datetime import date
    from decimal import Decimal

    from crm.models import Deal
    with app_db():
        deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
        deal.value, deal.currency, deal.expected_close = Decimal("48000"), "SEK", date(2027, 3, 1)
        db.session.commit()
        deal_id = deal.id
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server)
    page.goto(f"{live_server}/deals/{deal_id}")
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Convert to lead").click()
    page.get_by_role("dialog").get_by_role("button", name="Convert to lead").click()
    expect(page).to_have_url(re.compile(r"/leads/\d+$"))
    details = page.get_by_role("region", name="Details")
    expect(details.locator("dt:text-is('Value') + dd")).to_contain_text("SEK")
    expect(details.locator("dt:text-is('Expected close') + dd")).to_contain_text("2027")
    lead_id = int(page.url.rsplit("/", 1)[1])
    with app_db():
        lead = db.session.get(Lead, lead_id)
        assert (lead.value, lead.currency, lead.expected_close) == (Decimal("48000"), "SEK", date(2027, 3, 1))

    page.get_by_role("link", name="Convert", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Deal value (SEK)")).to_have_value("48000.00")
    dialog.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("Lead converted into")).to_be_visible()
    with app_db():
        deal = db.session.get(Deal, db.session.get(Lead, lead_id).converted_deal_id)
        assert (deal.value, deal.currency, deal.expected_close) == (Decimal("48000"), "SEK", date(2027, 3, 1))


def test_a_new_user_finds_every_section_of_a_demo_record_filled(page: Page, live_server, app_db):
    from crm.models import EmailMessage, Note
    with app_db():
        lead = db.session.scalar(select(Lead).join(EmailMessage, EmailMessage.lead_id == Lead.id)
                                 .join(Note, Note.lead_id == Lead.id).order_by(Lead.id).limit(1))
        lead_id, budget = lead.id, lead.custom["budget_code"]
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    page.goto(f"{live_server}/leads/{lead_id}")
    expect(page.get_by_role("region", name="Details").locator("dt:text-is('Budget code') + dd")).to_have_text(budget)
    for section, empty in (("Activities", "No activities."), ("Notes", "No notes."), ("Emails", "No emails.")):
        region = page.get_by_role("region", name=section)
        expect(region.get_by_role("listitem").first).to_be_visible()
        expect(region).not_to_contain_text(empty)
