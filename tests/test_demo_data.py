"""The demo fills every section of a record page: custom fields, activities, notes and emails."""
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, Contact, CustomField, Deal, EmailMessage, Lead, Note, Organization

MODELS = {"lead": Lead, "deal": Deal, "contact": Contact, "organization": Organization}


@pytest.mark.parametrize("name", list(MODELS))
def test_demo_records_have_custom_values_activities_notes_and_emails(app, name):
    model = MODELS[name]
    fields = db.session.scalars(select(CustomField.key).where(CustomField.record_type == name)).all()
    assert fields
    first = db.session.scalars(select(model).order_by(model.id).limit(20)).all()
    assert all(set(fields) <= set(r.custom) for r in first)
    assert all(r.updated_at == r.created_at for r in first if name in ("lead", "deal"))  # seeded, not edited
    column = f"{name}_id"
    for child in (Activity, Note, EmailMessage):
        assert db.session.scalar(select(func.count(child.id)).where(getattr(child, column).is_not(None))) > 0


def test_demo_emails_and_activities_belong_to_the_records_owner(app):
    email = db.session.scalar(select(EmailMessage).where(EmailMessage.lead_id.is_not(None)).order_by(EmailMessage.id))
    lead = db.session.get(Lead, email.lead_id)
    assert email.sender == lead.owner.email and email.recipient == lead.email and email.body
    activity = db.session.scalar(select(Activity).where(Activity.lead_id == lead.id))
    assert activity.owner_id == lead.owner_id


def test_a_demo_record_page_shows_every_section_filled(client, auth):
    auth.login()
    lead = db.session.scalar(select(Lead).join(EmailMessage, EmailMessage.lead_id == Lead.id)
                             .join(Note, Note.lead_id == Lead.id).order_by(Lead.id).limit(1))
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "Budget code" in page and lead.custom["budget_code"] in page
    assert "No notes." not in page and "No emails." not in page and "No activities." not in page
