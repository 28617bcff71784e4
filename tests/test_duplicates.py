"""Similar records: which rules match, why, and that the overview never compares all pairs."""
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Contact, Lead, LeadStatus, Organization
from crm.models.mixins import utcnow
from crm.services.duplicates import matching
from crm.services.duplicates import (
    company_domain, duplicate_groups, find_similar, normalize_email, normalize_phone,
)


def make_lead(owner, **values) -> Lead:
    """A lead owned by `owner` (the seeded leads use unique example.com emails and random phones)."""
    defaults = dict(title=values.get("person_name") or "Probe", owner_id=owner.id, team_id=owner.team_id)
    lead = Lead(**(defaults | values))
    db.session.add(lead)
    db.session.flush()
    return lead


def why(matches, record) -> str:
    return next((m.why for m in matches if m.id == record.id), "")


@pytest.mark.parametrize("a, b", [
    ("Ana.Ruiz@Acme.com ", "ana.ruiz@acme.com"),
    ("ana.ruiz+crm@acme.com", "ana.ruiz@acme.com"),
    ("a.n.a.ruiz@gmail.com", "anaruiz@googlemail.com"),
])
def test_emails_are_normalized_before_comparing(a, b):
    assert normalize_email(a) == normalize_email(b) != ""


@pytest.mark.parametrize("email", ["ana@gmail.com", "ana@outlook.com", "ana@yahoo.co.uk", "ana@hotmail.es",
                                   "ana@icloud.com", "ana@proton.me", "ana@example.com"])
def test_public_email_domains_are_not_company_domains(email):
    assert company_domain(email) == ""


def test_company_domain_comes_from_email_or_website():
    assert company_domain("ana@Acme.se") == "acme.se"
    assert company_domain(website="https://www.acme.se/contact") == "acme.se"


@pytest.mark.parametrize("raw, country", [
    ("+46 8 123 45 67", ""), ("08-123 45 67", "Sweden"), ("0046 8 123 4567", "SE"), ("+46 (0)8 123 45 67", ""),
])
def test_phones_are_normalized_with_the_records_country(raw, country):
    assert normalize_phone(raw, country) == "+4681234567"


def test_same_email_matches_whatever_the_case(app, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    probe = make_lead(rep, person_name="Someone Else", email="ANA.RUIZ+web@Acme.se")
    assert why(find_similar(db.session, "lead", probe), original).startswith("same email")


def test_phone_match_says_the_number_in_international_format(app, rep):
    original = make_lead(rep, person_name="Lars Berg", phone="+46 8 123 45 67")
    probe = make_lead(rep, person_name="Ingrid Holm", phone="08-123 45 67", country="Sweden")
    assert why(find_similar(db.session, "lead", probe), original) == "phone +46 8 123 45 67"


def test_close_names_match_with_a_percentage(app, rep):
    original = make_lead(rep, person_name="Katarina Lindqvist")
    probe = make_lead(rep, person_name="Katarina Lindkvist")
    assert why(find_similar(db.session, "lead", probe), original) == "name 94%"


def test_names_in_another_order_or_accents_are_the_same_name(app, rep):
    original = make_lead(rep, person_name="Chloé Dubois-Martin")
    probe = make_lead(rep, person_name="martin dubois chloe")
    assert why(find_similar(db.session, "lead", probe), original) == "same name"


def test_a_shared_company_domain_matches_but_gmail_does_not(app, rep):
    colleague = make_lead(rep, person_name="Zed Quark", email="zed@acme-widgets.se")
    stranger = make_lead(rep, person_name="Yan Quill", email="yan@gmail.com")
    probe = make_lead(rep, person_name="Xia Qorn", email="xia@acme-widgets.se")
    gmail_probe = make_lead(rep, person_name="Wu Qin", email="wu@gmail.com")
    assert why(find_similar(db.session, "lead", probe), colleague) == "same domain acme-widgets.se"
    assert why(find_similar(db.session, "lead", gmail_probe), stranger) == ""


def test_unrelated_records_do_not_match(app, rep):
    make_lead(rep, person_name="Quentin Zyxw", email="q@zyxw-one.se", phone="+46 8 999 00 01")
    probe = make_lead(rep, person_name="Bartholomew Vrool", email="b@vrool-two.se", phone="+46 8 777 11 22")
    assert find_similar(db.session, "lead", probe) == []


def test_form_values_can_be_checked_before_the_record_exists(app, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    matches = find_similar(db.session, "lead", {"email": "ana.ruiz@acme.se", "person_name": "Ana Ruiz"})
    assert why(matches, original) == "same email, same name"


def test_trashed_and_invisible_records_are_not_similar(app, rep, admin):
    other_rep = db.session.scalar(select(type(rep)).where(type(rep).email == "rep4@example.com"))
    hidden = make_lead(other_rep, person_name="Hidden", email="same@acme.se")
    trashed = make_lead(rep, person_name="Trashed", email="same@acme.se", deleted_at=utcnow())
    matches = find_similar(db.session, "lead", {"email": "same@acme.se"}, viewer=rep)
    assert {m.id for m in matches}.isdisjoint({hidden.id, trashed.id})
    assert hidden.id in {m.id for m in find_similar(db.session, "lead", {"email": "same@acme.se"}, viewer=admin)}


def test_contacts_and_organizations_match_too(app, rep):
    org = Organization(name="Acme Widgets AB", website="https://acme-widgets.se", owner_id=rep.id)
    twin = Organization(name="ACME Widgets", email="info@acme-widgets.se", owner_id=rep.id)
    ana = Contact(name="Ana Ruiz", phone="+46 8 123 45 67", owner_id=rep.id)
    ana2 = Contact(name="Ana Ruis", phone="08 123 45 67", country="Sweden", owner_id=rep.id)
    db.session.add_all([org, twin, ana, ana2])
    db.session.flush()
    assert why(find_similar(db.session, "organization", twin), org) == "same domain acme-widgets.se, same company"
    assert why(find_similar(db.session, "contact", ana2), ana) == "phone +46 8 123 45 67, name 88%"


def test_duplicate_groups_are_best_first_and_need_strong_evidence(app, admin, rep):
    a = make_lead(rep, person_name="Ana Ruiz", email="ana@acme.se")
    b = make_lead(rep, person_name="Ana Ruiz", email="ANA@acme.se")
    c = make_lead(rep, person_name="Ana Ruis", company_name="Acme", phone="+46 8 555 12 12")
    d = make_lead(rep, person_name="Ana Ruiz", company_name="Acme AB")
    name_only = make_lead(rep, person_name="Ana Ruiz", company_name="Totally Different Corp")
    groups = duplicate_groups(db.session, "lead", admin)
    assert groups[0].ids == [a.id, b.id] and "same email" in groups[0].reasons
    together = next(g for g in groups if c.id in g.ids)
    assert together.ids == [c.id, d.id] and name_only.id not in together.ids


def test_duplicate_groups_are_kept_until_the_records_change(app, admin, rep):
    a = make_lead(rep, person_name="Ana Ruiz", email="ana@acme.se")
    make_lead(rep, person_name="Ana Ruiz", email="ANA@acme.se")
    db.session.commit()
    first = duplicate_groups(db.session, "lead", admin)
    assert duplicate_groups(db.session, "lead", admin) is first
    lead = db.session.get(Lead, a.id)
    lead.person_name, lead.email = "Bo Ek", "bo@elsewhere.se"
    db.session.commit()
    assert all(a.id not in g.ids for g in duplicate_groups(db.session, "lead", admin))


def test_duplicate_groups_compare_only_within_blocks(app, admin, monkeypatch):
    calls = []
    real = matching.compare
    monkeypatch.setattr(matching, "compare", lambda *args: calls.append(1) or real(*args))
    duplicate_groups(db.session, "lead", admin)
    leads = db.session.scalar(select(func.count(Lead.id)))
    assert len(calls) < leads * (leads - 1) / 2 / 10


def test_record_page_shows_similar_leads_with_a_count(app, client, auth, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    make_lead(rep, person_name="A. Ruiz", email="ana.ruiz@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get(f"/leads/{original.id}").get_data(as_text=True)
    assert f'/leads/{original.id}/similar/link' in page
    badge = client.get(f"/leads/{original.id}/similar/link", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Similar leads (1)" in badge and "<html" not in badge


def test_similar_page_lists_each_match_with_why_and_a_list_link(app, client, auth, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    twin = make_lead(rep, person_name="A. Ruiz", email="ana.ruiz@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    body = client.get(f"/leads/{original.id}/similar").get_data(as_text=True)
    assert "same email" in body and f"#{twin.id}" in body
    assert f"/leads/?ids={original.id},{twin.id}" in body.replace("%2C", ",")
    fragment = client.get(f"/leads/{original.id}/similar", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "same email" in fragment and "<html" not in fragment


def test_create_form_warns_about_a_possible_duplicate(app, client, auth, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    assert 'id="duplicate-notice"' in client.get("/leads/new").get_data(as_text=True)
    notice = client.get("/leads/similar-check?email=Ana.Ruiz@acme.se&person_name=",
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Possible duplicate of" in notice and f"/leads/{original.id}" in notice and "(same email)" in notice
    assert client.get("/leads/similar-check?email=nobody@nowhere-else.se").get_data(as_text=True).strip() == ""


def test_creating_a_likely_duplicate_says_so_with_links_even_without_js(app, client, auth, rep):
    original = make_lead(rep, person_name="Ana Ruiz", email="ana.ruiz@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    status = db.session.scalar(select(LeadStatus.id).order_by(LeadStatus.position))
    response = client.post("/leads/new", data={"title": "Second Ana", "email": "ANA.RUIZ@acme.se", "status": status,
                                               "owner": f"user:{rep.id}"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    created = db.session.scalar(select(Lead).where(Lead.title == "Second Ana"))
    assert created is not None and "Possible duplicate of" in body and "(same email)" in body
    assert f'href="/leads/{original.id}"' in body and f'href="/leads/{created.id}/similar"' in body


def test_duplicates_page_offers_merge_per_group(app, client, auth, rep):
    a = make_lead(rep, person_name="Ana Ruiz", email="ana@acme.se")
    b = make_lead(rep, person_name="Ana Ruiz", email="ana@acme.se")
    db.session.commit()
    auth.login("rep1@example.com")
    body = client.get("/leads/duplicates").get_data(as_text=True)
    assert f"/leads/merge?ids={a.id},{b.id}" in body.replace("%2C", ",")


@pytest.mark.parametrize("plural", ["contacts", "organizations"])
def test_contact_and_organization_pages_have_the_similar_box(app, client, auth, plural):
    auth.login()
    assert "/similar/link" in client.get(f"/{plural}/1").get_data(as_text=True)
    assert client.get(f"/{plural}/1/similar").status_code == 200
    assert client.get(f"/{plural}/duplicates").status_code == 200
