"""Conversion keeps a deal's currency and expected close date: deal -> lead, lead -> deal, and back."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from crm.extensions import db
from crm.models import Deal, Lead, Stage
from crm.services.conversion import LeadPlan, convert_deal_to_lead, convert_deals_to_leads, convert_lead

HTMX = {"HX-Request": "true"}


def open_deal(**values) -> Deal:
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
    for key, value in values.items():
        setattr(deal, key, value)
    db.session.commit()
    return deal


def stage() -> Stage:
    return db.session.scalar(select(Stage).where(Stage.is_won.is_(False), Stage.is_lost.is_(False)).order_by(Stage.id))


def test_a_deal_becomes_a_lead_with_its_currency_and_expected_close(app, admin):
    deal = open_deal(value=Decimal("48000"), currency="SEK", expected_close=date(2027, 3, 1))
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    db.session.commit()
    assert (lead.value, lead.currency, lead.expected_close) == (Decimal("48000"), "SEK", date(2027, 3, 1))


def test_a_bulk_conversion_keeps_each_deals_currency(app, admin):
    deals = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id).limit(3)).all()
    for deal, currency in zip(deals, ("USD", "GBP", "EUR")):
        deal.currency, deal.expected_close = currency, date(2027, 1, deal.id % 28 + 1)
    db.session.commit()
    result = convert_deals_to_leads(db.session, [d.id for d in deals], admin)
    leads = db.session.scalars(select(Lead).where(Lead.id.in_(result.lead_ids)).order_by(Lead.origin_deal_id)).all()
    assert [(lead.currency, lead.expected_close) for lead in leads] == [(d.currency, d.expected_close) for d in deals]


def test_deal_to_lead_to_deal_keeps_currency_and_expected_close(app, admin):
    deal = open_deal(value=Decimal("9900"), currency="GBP", expected_close=date(2027, 6, 30))
    lead = convert_deal_to_lead(db.session, deal, admin).lead
    again = convert_lead(db.session, lead, admin, LeadPlan(owner=f"user:{admin.id}", stage_id=stage().id)).deal
    db.session.commit()
    assert (again.value, again.currency, again.expected_close) == (Decimal("9900"), "GBP", date(2027, 6, 30))


def test_a_lead_entered_in_dollars_becomes_a_deal_in_dollars(client, auth, admin):
    lead = db.session.scalar(select(Lead).where(Lead.converted_at.is_(None), Lead.deleted_at.is_(None)).order_by(Lead.id))
    auth.login()
    edit = {"title": lead.title, "owner": f"user:{lead.owner_id}", "status": str(lead.status_id),
            "value": "1500", "currency": "USD", "expected_close": "2027-02-15"}
    assert client.post(f"/leads/{lead.id}/edit", data=edit).status_code == 303
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "$1,500" in page and "Expected close" in page
    dialog = client.get(f"/leads/{lead.id}/convert", headers=HTMX).get_data(as_text=True)
    assert "Deal value (USD)" in dialog
    deal = convert_lead(db.session, lead, admin, LeadPlan(owner=f"user:{admin.id}", stage_id=stage().id)).deal
    assert (deal.value, deal.currency, deal.expected_close) == (Decimal("1500"), "USD", date(2027, 2, 15))
