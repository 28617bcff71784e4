"""Lead -> contact + organization (+ deal) conversion (Odoo / Salesforce style)."""
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.models import Activity, Contact, Deal, EmailMessage, HistoryEvent, Lead, Note, Organization, Stage, User
from crm.models.mixins import utcnow
from crm.services import DomainError
from crm.services.conversion import AlreadyConverted, LeadPlan, convert_lead
from tests.conftest import user
from tests.test_conversion import simultaneously


def a_lead(**values) -> Lead:
    """Lead 1 with a person, a company, a note, an email and an activity."""
    lead = db.session.get(Lead, 1)
    for key, value in {"person_name": "Greta Weber", "company_name": "Lumen Labs Unique",
                       "email": "greta@lumen.example", "phone": "+49 30 1234", **values}.items():
        setattr(lead, key, value)
    db.session.execute(Activity.__table__.delete().where(Activity.lead_id == lead.id))
    db.session.execute(Note.__table__.delete().where(Note.lead_id == lead.id))
    db.session.add_all([Note(lead_id=lead.id, body="Met at the fair"),
                        EmailMessage(lead_id=lead.id, subject="Brochure"),
                        Activity(lead_id=lead.id, subject="Call back", due_at=utcnow() + timedelta(days=1))])
    db.session.commit()
    return lead


def first_stage() -> Stage:
    return db.session.scalar(select(Stage).order_by(Stage.id).limit(1))


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count(m.id))) for m in (Contact, Organization, Deal))


def form(lead: Lead, **values) -> dict:
    return {"owner": f"user:{lead.owner_id}", "customer": "new", "create_deal": "y",
            "stage": str(first_stage().id), "value": "12000", "action": "convert", **values}


def test_converting_creates_a_linked_contact_organization_and_deal(app, admin):
    lead = a_lead()
    result = convert_lead(db.session, lead, admin, LeadPlan(owner=f"user:{lead.owner_id}", stage_id=first_stage().id))
    db.session.commit()
    contact, org, deal = result.contact, result.organization, result.deal
    assert (contact.name, contact.email, org.name) == ("Greta Weber", "greta@lumen.example", "Lumen Labs Unique")
    assert contact.organization_id == org.id
    assert (deal.contact_id, deal.organization_id, deal.title, deal.value) == (contact.id, org.id, lead.title, lead.value)
    assert {contact.owner_id, org.owner_id, deal.owner_id} == {lead.owner_id}
    assert deal.team_id == lead.team_id


def test_activities_notes_and_emails_move_to_the_new_records(app, admin):
    lead = a_lead()
    result = convert_lead(db.session, lead, admin, LeadPlan(stage_id=first_stage().id))
    db.session.commit()
    for model in (Note, EmailMessage, Activity):
        item = db.session.scalar(select(model).where(model.deal_id == result.deal.id))
        assert item is not None and item.lead_id is None
        assert (item.contact_id, item.organization_id) == (result.contact.id, result.organization.id)


def test_the_lead_is_marked_converted_and_links_to_what_it_became(client, auth):
    lead = a_lead()
    auth.login()
    response = client.post(f"/leads/{lead.id}/convert", data=form(lead))
    assert response.status_code == 303
    lead = db.session.get(Lead, lead.id)
    assert lead.status.kind == "converted" and lead.converted_at is not None
    assert response.location == f"/deals/{lead.converted_deal_id}"
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    for link in (f"/contacts/{lead.converted_contact_id}", f"/organizations/{lead.converted_organization_id}",
                 f"/deals/{lead.converted_deal_id}"):
        assert f'href="{link}"' in page
    assert "converted: into deal" in page


def test_a_converted_lead_is_read_only(client, auth):
    lead = a_lead()
    auth.login()
    client.post(f"/leads/{lead.id}/convert", data=form(lead))
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert ">Edit</a>" not in page and "Add note" not in page and ">Convert</a>" not in page
    assert client.post(f"/leads/{lead.id}/edit", data={"title": "Changed"}).status_code == 403
    assert db.session.get(Lead, lead.id).title != "Changed"


def test_converting_twice_creates_nothing_twice(client, auth):
    lead = a_lead()
    auth.login()
    first = client.post(f"/leads/{lead.id}/convert", data=form(lead))
    before = counts()
    second = client.post(f"/leads/{lead.id}/convert", data=form(lead))
    assert first.status_code == second.status_code == 303
    assert second.location == f"/leads/{lead.id}"
    assert counts() == before


def test_a_second_tab_holding_the_unconverted_lead_creates_nothing(app, admin):
    """Two tabs: both loaded the lead before either converted it; the later one claims nothing."""
    lead = a_lead()
    with Session(db.engine) as other_tab:
        stale = other_tab.get(Lead, lead.id)
        other_admin = other_tab.get(User, admin.id)
        assert stale.converted_at is None
        convert_lead(db.session, lead, admin, LeadPlan(stage_id=first_stage().id))
        db.session.commit()
        before = counts()
        with pytest.raises(AlreadyConverted):
            convert_lead(other_tab, stale, other_admin, LeadPlan(stage_id=first_stage().id))
        other_tab.rollback()
    assert counts() == before


def test_linking_an_existing_organization_creates_no_new_one(client, auth):
    org = db.session.get(Organization, 3)
    lead = a_lead(company_name=org.name, person_name="Pia New", email="pia@new.example", phone="")
    auth.login()
    dialog = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert f'<option selected value="{org.id}">{org.name}</option>' in dialog
    before = counts()
    client.post(f"/leads/{lead.id}/convert", data=form(lead, customer="link", organization=str(org.id), contact=""))
    lead = db.session.get(Lead, lead.id)
    assert lead.converted_organization_id == org.id
    assert counts() == (before[0] + 1, before[1], before[2] + 1)  # the person became a contact of org
    assert db.session.get(Deal, lead.converted_deal_id).organization_id == org.id


def assert_nothing_lost(lead: Lead, result, *, contact=None, org=None):
    """The deal carries the lead's person (as its contact) and company (as its organization)."""
    deal = result.deal
    assert (deal.title, deal.email, deal.phone, deal.value) == (lead.title, lead.email, lead.phone, lead.value)
    assert result.contact is not None and deal.contact_id == result.contact.id
    assert result.organization is not None and deal.organization_id == result.organization.id
    assert result.contact.organization_id == result.organization.id
    if contact is not None:
        assert result.contact.id == contact.id
    else:
        assert (result.contact.name, result.contact.email) == (lead.person_name, lead.email)
    if org is not None:
        assert result.organization.id == org.id
    else:
        assert result.organization.name == lead.company_name
    assert (lead.converted_contact_id, lead.converted_organization_id, lead.converted_deal_id) == (
        result.contact.id, result.organization.id, deal.id)


def test_create_new_keeps_person_and_company(app, admin):
    lead = a_lead()
    result = convert_lead(db.session, lead, admin, LeadPlan(customer="new", stage_id=first_stage().id))
    assert_nothing_lost(lead, result)


def test_linking_an_organization_without_a_contact_makes_the_person_its_new_contact(app, admin):
    org = db.session.get(Organization, 3)
    lead = a_lead(company_name=org.name)
    result = convert_lead(db.session, lead, admin, LeadPlan(customer="link", organization_id=org.id,
                                                            stage_id=first_stage().id))
    assert_nothing_lost(lead, result, org=org)
    assert db.session.scalar(select(HistoryEvent.new).where(
        HistoryEvent.record_type == "contact", HistoryEvent.record_id == result.contact.id,
        HistoryEvent.kind == "convert")) == f"from lead “{lead.title}”"


def test_linking_an_organization_and_a_contact_creates_neither(app, admin):
    contact = db.session.scalar(select(Contact).where(Contact.organization_id.is_not(None)).limit(1))
    org = db.session.get(Organization, contact.organization_id)
    lead = a_lead(company_name=org.name)
    before = counts()
    result = convert_lead(db.session, lead, admin, LeadPlan(customer="link", organization_id=org.id,
                                                            contact_id=contact.id, stage_id=first_stage().id))
    assert_nothing_lost(lead, result, contact=contact, org=org)
    assert counts() == (before[0], before[1], before[2] + 1)


def test_do_not_link_keeps_the_lead_details_on_the_deal_and_the_lead(app, admin):
    lead = a_lead()
    before = counts()
    result = convert_lead(db.session, lead, admin, LeadPlan(customer="none", stage_id=first_stage().id))
    deal = result.deal
    assert (result.contact, result.organization, deal.contact_id, deal.organization_id) == (None, None, None, None)
    assert (deal.title, deal.email, deal.phone) == (lead.title, lead.email, lead.phone)
    assert (lead.person_name, lead.company_name) == ("Greta Weber", "Lumen Labs Unique")  # kept, read-only
    assert counts() == (before[0], before[1], before[2] + 1)


def test_the_dialog_says_what_linking_an_organization_alone_does(client, auth):
    lead = a_lead()
    auth.login()
    dialog = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert "Greta Weber becomes a new contact of that organization" in dialog


def test_the_dialog_lists_similar_records_with_their_reasons(client, auth):
    lead = a_lead()
    namesake = db.session.get(Lead, 2)
    namesake.person_name, namesake.email, namesake.company_name = "Greta Weber", "other@else.example", "Other"
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).limit(1))
    deal.email = lead.email
    db.session.commit()
    auth.login()
    dialog = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert "Similar leads and deals:" in dialog and "already has" not in dialog
    assert f'{namesake.title}</a>' in dialog and "same name" in dialog and "same email" not in dialog.split(
        namesake.title)[1].split("</li>")[0]
    assert "same email" in dialog.split(deal.title)[1].split("</li>")[0]


def test_do_not_link_and_no_deal_only_marks_the_lead_converted(app, admin):
    lead = a_lead()
    before = counts()
    convert_lead(db.session, lead, admin, LeadPlan(customer="none", create_deal=False))
    db.session.commit()
    assert counts() == before and lead.converted_at is not None
    assert db.session.scalar(select(func.count(Note.id)).where(Note.lead_id == lead.id)) == 1


def test_the_dialog_suggests_contacts_by_email_and_phone(client, auth):
    contact = db.session.get(Contact, 2)
    contact.phone = "+1 555 0100"
    lead = a_lead(email=contact.email.upper(), phone="")
    other = db.session.get(Contact, 3)
    other.phone = "+1 555 0199"
    db.session.commit()
    auth.login()
    dialog = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert contact.name in dialog and other.name not in dialog
    lead.email, lead.phone = "", "+1 555 0199"
    db.session.commit()
    assert other.name in client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)


def test_the_dialog_offers_merge_with_existing_when_the_same_email_has_another_lead(client, auth):
    lead = a_lead()
    twin = db.session.get(Lead, 2)
    twin.email = lead.email
    db.session.commit()
    auth.login()
    dialog = client.get(f"/leads/{lead.id}/convert", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Merge with existing" in dialog and "<html" not in dialog
    response = client.post(f"/leads/{lead.id}/convert", data=form(lead, action="merge"))
    target = urlparse(response.location)
    assert response.status_code == 303 and target.path == "/leads/merge"
    assert parse_qs(target.query)["ids"] == [f"{lead.id},{twin.id}"]
    assert client.get(response.location).status_code == 200  # the merge feature's panel
    assert db.session.get(Lead, lead.id).converted_at is None


def test_no_merge_offer_without_similar_records(client, auth):
    lead = a_lead(email="only-one@nowhere.example")
    auth.login()
    assert "Merge with existing" not in client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)


def test_the_owner_is_resolved_once_and_used_for_contact_and_deal(app, admin):
    """A distribution pool hands out its next member per turn: contact and deal share one turn."""
    from crm.models import Pool, PoolMember
    pool = Pool(name="Key accounts", record_type="deal", members=[
        PoolMember(user_id=user(f"rep{i}@example.com").id, position=i) for i in (2, 3)])
    db.session.add(pool)
    db.session.commit()
    lead = a_lead()
    result = convert_lead(db.session, lead, admin, LeadPlan(owner=f"pool:{pool.id}", stage_id=first_stage().id))
    assert result.contact.owner_id == result.deal.owner_id == result.organization.owner_id == user("rep2@example.com").id
    assert db.session.get(Pool, pool.id).cursor == 1


def test_a_rep_cannot_convert_a_teammates_lead(client, auth):
    mate = user("rep2@example.com")
    lead = db.session.scalar(select(Lead).where(Lead.owner_id == mate.id).limit(1))
    auth.login("rep1@example.com")
    assert client.get(f"/leads/{lead.id}/convert").status_code == 403
    assert client.post(f"/leads/{lead.id}/convert", data=form(lead)).status_code == 403


def test_a_bad_choice_is_explained_and_nothing_is_created(client, auth):
    lead = a_lead()
    before = counts()
    auth.login()
    response = client.post(f"/leads/{lead.id}/convert", data=form(lead, customer="link", organization="", contact=""))
    assert response.status_code == 422
    assert "Choose the contact or organization to link to." in response.get_data(as_text=True)
    assert counts() == before and db.session.get(Lead, lead.id).converted_at is None


def test_conversion_events_are_written_on_both_sides(app, admin):
    lead = a_lead()
    result = convert_lead(db.session, lead, admin, LeadPlan(stage_id=first_stage().id))
    db.session.commit()
    kinds = db.session.execute(select(HistoryEvent.record_type, HistoryEvent.kind).where(
        HistoryEvent.kind.in_(["convert", "create"]), HistoryEvent.actor_id == admin.id)).all()
    assert kinds.count(("lead", "convert")) == 3
    assert {("contact", "create"), ("organization", "create"), ("deal", "create"),
            ("deal", "convert"), ("contact", "convert")} <= set(kinds)
    with pytest.raises(DomainError):
        convert_lead(db.session, lead, admin, LeadPlan(stage_id=first_stage().id))


def test_two_simultaneous_conversions_create_one_set_of_records(app, admin):
    """Double click: two requests convert the same lead at the same moment; one wins, one claims nothing."""
    lead_id, admin_id, stage_id = a_lead().id, admin.id, first_stage().id
    before = counts()

    def convert(session):
        convert_lead(session, session.get(Lead, lead_id), session.get(User, admin_id), LeadPlan(stage_id=stage_id))
        return "converted"

    assert sorted(simultaneously(db.engine, convert)) == ["already", "converted"]
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
