"""Web capture forms: submissions become leads assigned through pools; spam and bad input store nothing."""
import pytest
from sqlalchemy import func, select

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db, limiter
from crm.models import Deal, HistoryEvent, Lead, LeadStatus, Note, Pool, PoolMember, User
from crm.models.pools import CaptureForm
from crm.services.settings import set_setting

ORIGIN = {"Origin": "http://localhost"}


def uid(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


@pytest.fixture
def web_form(app):
    pool = Pool(name="Inbound EU", record_type="lead",
                members=[PoolMember(user_id=uid("rep1@example.com"), position=0),
                         PoolMember(user_id=uid("rep2@example.com"), position=1)])
    db.session.add(pool)
    db.session.flush()
    form = CaptureForm(name="Contact us", slug="contact-us", fields=["person_name", "email", "company_name", "message"],
                       owner_choice=f"pool:{pool.id}", source="Website form", allowed_origins="https://www.example.org")
    db.session.add(form)
    db.session.commit()
    return form


def submit(client, email="eva@acme.com", headers=ORIGIN, **extra):
    data = {"person_name": "Eva Lind", "email": email, "company_name": "Acme", "message": "Call me"} | extra
    return client.post("/f/contact-us", data=data, headers=headers)


def leads_from_form():
    return db.session.execute(select(Lead).where(Lead.source == "Website form").order_by(Lead.id)).scalars().all()


def test_two_submissions_become_two_leads_for_consecutive_pool_members(client, web_form):
    assert submit(client).status_code == 303
    assert submit(client, email="olle@acme.com").status_code == 303
    leads = leads_from_form()
    assert [l.owner_id for l in leads] == [uid("rep1@example.com"), uid("rep2@example.com")]
    assert leads[0].title == "Eva Lind (Acme)" and leads[0].description == "Call me"
    created = db.session.scalar(select(func.count()).where(HistoryEvent.record_type == "lead",
                                                           HistoryEvent.record_id == leads[0].id,
                                                           HistoryEvent.kind == "create"))
    assert created == 1


def test_a_second_submission_with_the_same_email_is_attached_not_duplicated(client, web_form):
    submit(client)
    submit(client, email="EVA@acme.com", message="Still interested")
    leads = leads_from_form()
    assert len(leads) == 1
    note = db.session.scalar(select(Note).where(Note.lead_id == leads[0].id))
    assert "Still interested" in note.body
    assert db.session.scalar(select(Pool.cursor).where(Pool.name == "Inbound EU")) == 1  # no turn spent on the twin


def test_the_honeypot_swallows_bots_silently(client, web_form):
    response = submit(client, website="http://spam.example")
    assert response.status_code == 303
    assert leads_from_form() == []


def test_bad_input_gets_field_messages_and_stores_nothing(client, web_form):
    response = submit(client, email="not-an-email", person_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an email address like name@company.com." in page and "Please fill in your name." in page
    assert 'aria-invalid="true"' in page
    assert leads_from_form() == []


def test_the_error_fragment_for_htmx_has_no_page_around_it(client, web_form):
    response = submit(client, headers=ORIGIN | {"HX-Request": "true"}, email="")
    assert response.status_code == 422 and b"<html" not in response.data and b"Please fill in your email." in response.data


def test_submissions_from_unknown_sites_or_without_origin_are_refused(client, web_form):
    assert submit(client, headers={"Origin": "https://evil.test"}).status_code == 403
    assert submit(client, headers={}).status_code == 403
    assert submit(client, headers={"Referer": "https://www.example.org/contact"}).status_code == 303
    assert len(leads_from_form()) == 1


def test_oversized_submissions_are_refused(client, web_form):
    assert submit(client, message="x" * 20000).status_code == 413
    assert submit(client, message="x" * 2001).status_code == 422
    assert leads_from_form() == []


def test_the_public_form_is_rate_limited_per_address(app, web_form, database_url):
    limited = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                         CAPTURE_RATE_LIMIT="3 per minute")
    limiter.reset()
    try:
        client = limited.test_client()
        codes = [submit(client, email=f"p{i}@acme.com").status_code for i in range(4)]
    finally:
        limiter.enabled = False
    assert codes == [303, 303, 303, 429]
    assert len(leads_from_form()) == 3


def test_submissions_become_deals_when_leads_are_switched_off(client, web_form):
    set_setting(db.session, "use_leads", "no")
    db.session.commit()
    submit(client)
    deal = db.session.scalar(select(Deal).where(Deal.source == "Website form"))
    assert deal.email == "eva@acme.com"
    assert leads_from_form() == []


def test_a_lead_pool_on_a_deal_form_hands_the_deal_to_an_admin_and_says_so(client, web_form):
    set_setting(db.session, "use_leads", "no")
    db.session.commit()
    submit(client)
    deal = db.session.scalar(select(Deal).where(Deal.source == "Website form"))
    assert deal.owner_id == uid("admin@example.com")  # never left without an owner
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.record_type == "deal",
                                                         HistoryEvent.record_id == deal.id,
                                                         HistoryEvent.kind == "assign"))
    assert "the lead pool “Inbound EU” cannot own deals" in event.new
    assert event.new.endswith(f"The deal went to {deal.owner.name} instead.")
    assert db.session.scalar(select(Pool.cursor).where(Pool.name == "Inbound EU")) == 0  # no lead turn spent


def test_the_settings_page_warns_when_the_owner_cannot_own_what_the_form_creates(client, auth, web_form):
    auth.login()
    assert "cannot own" not in client.get(f"/admin/forms/{web_form.id}").get_data(as_text=True)
    set_setting(db.session, "use_leads", "no")
    db.session.commit()
    page = client.get(f"/admin/forms/{web_form.id}").get_data(as_text=True)
    assert ("Leads are switched off, so this form creates deals; the lead pool “Inbound EU” cannot own deals: "
            "choose a deal pool or a person.") in page
    assert "Until then, each new deal goes to" in page
    deal_pool = Pool(name="Inbound deals", record_type="deal",
                     members=[PoolMember(user_id=uid("rep1@example.com"), position=0)])
    db.session.add(deal_pool)
    db.session.commit()
    client.post(f"/admin/forms/{web_form.id}", data={
        "name": "Contact us", "source": "Website form", "owner": f"pool:{deal_pool.id}",
        "fields": ["email"], "active": "y"})
    assert "cannot own" not in client.get(f"/admin/forms/{web_form.id}").get_data(as_text=True)
    submit(client)
    assert db.session.scalar(select(Deal.owner_id).where(Deal.source == "Website form")) == uid("rep1@example.com")


def test_admins_configure_a_form_and_get_the_snippet(client, auth, web_form):
    auth.login()
    response = client.post("/admin/forms/", data={"name": "Trade show"})
    assert response.status_code == 303
    form = db.session.scalar(select(CaptureForm).where(CaptureForm.name == "Trade show"))
    page = client.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert "Pool: Inbound EU (round robin)" in page
    assert f"http://localhost/f/{form.slug}" in page and "&lt;form action=" in page
    response = client.post(f"/admin/forms/{form.id}", data={
        "name": "Trade show", "source": "Fair 2026", "owner": "pool:1", "fields": ["email", "phone"], "active": "y"})
    assert response.status_code == 303
    db.session.refresh(form)
    assert (form.owner_choice, form.source, form.fields) == ("pool:1", "Fair 2026", ["email", "phone"])


def test_reps_cannot_configure_forms(client, auth, web_form):
    auth.login("rep1@example.com")
    assert client.get("/admin/forms/").status_code == 403


def test_a_captured_lead_starts_in_the_first_open_status(client, web_form):
    submit(client)
    first_open = db.session.scalar(select(LeadStatus.id).where(LeadStatus.kind == "open").order_by(LeadStatus.position))
    assert leads_from_form()[0].status_id == first_open
