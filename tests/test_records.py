"""Record pages and lists: page or fragment from one template, validation, permissions, history."""
import re

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Activity, Contact, Deal, HistoryEvent, Lead, LeadStatus, Note, Organization, Setting
from crm.services.history import timeline_select

PAGES = ["/leads/", "/deals/", "/contacts/", "/organizations/"]


@pytest.mark.parametrize("url", PAGES)
def test_lists_render_as_a_page_and_as_a_fragment(client, auth, url):
    auth.login()
    page = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.data and b"<html" not in fragment.data
    assert b'id="record-rows"' in fragment.data and "HX-Request" in fragment.headers["Vary"]


def test_a_history_restore_request_gets_the_whole_page(client, auth):
    auth.login()
    response = client.get("/leads/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert b"<html" in response.data


@pytest.mark.parametrize("url", ["/leads/1", "/deals/1", "/contacts/1", "/organizations/1"])
def test_record_pages_show_details_and_history(client, auth, url):
    auth.login()
    response = client.get(url)
    assert response.status_code == 200 and b"History" in response.data and b"created" in response.data


@pytest.mark.parametrize("url", ["/leads/?page=9999", "/leads/?page=-1", "/leads/?sort=drop_table",
                                 "/leads/?per_page=100000", "/deals/?stage=abc", "/leads/?created_to=2026-02-30"])
def test_bad_list_arguments_never_fail(client, auth, url):
    auth.login()
    page = client.get(url)
    assert page.status_code == 200 and 'id="record-rows"' in page.text and '<p class="count">' in page.text


def test_an_out_of_range_page_says_so_and_shows_the_last_page(client, auth):
    auth.login()
    assert b"Page 9999 does not exist" in client.get("/leads/?page=9999").data


@pytest.mark.parametrize("url", ["/leads/99999", "/deals/99999", "/nowhere"])
def test_missing_records_get_a_friendly_404(client, auth, url):
    auth.login()
    response = client.get(url)
    assert response.status_code == 404 and b"does not exist" in response.data


def test_errors_come_as_fragments_for_htmx(client, auth):
    auth.login()
    response = client.get("/leads/99999", headers={"HX-Request": "true"})
    assert response.status_code == 404 and b"<html" not in response.data and b'id="error"' in response.data


def test_pages_need_a_login(client):
    response = client.get("/leads/")
    assert response.status_code == 302 and "/login" in response.location


def test_a_wrong_password_is_refused_with_a_message(client, auth):
    response = auth.login(password="nope")
    assert b"Wrong email or password" in response.data


def test_editing_writes_one_history_event_per_changed_field(client, auth, admin):
    auth.login()
    lead = db.session.get(Lead, 1)
    data = {"title": "Renamed", "status": str(lead.status_id), "owner": f"user:{lead.owner_id}",
            "email": "new@example.com", "city": lead.city, "country": lead.country,
            "lat": lead.lat, "lng": lead.lng, "person_name": lead.person_name,
            "company_name": lead.company_name, "phone": lead.phone, "source": lead.source,
            "value": lead.value, "tags": lead.tags}
    response = client.post("/leads/1/edit", data=data)
    assert response.status_code == 303
    events = db.session.scalars(timeline_select("lead", 1).where(HistoryEvent.kind == "update")).all()
    assert {(e.field, e.new) for e in events} == {("title", "Renamed"), ("email", "new@example.com")}
    assert all(e.actor_id == admin.id for e in events)


def test_an_invalid_edit_shows_field_messages_and_changes_nothing(client, auth):
    auth.login()
    response = client.post("/leads/1/edit", data={"title": "", "email": "not-an-email"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert b"A lead needs a title." in response.data and b"Enter an email address" in response.data
    assert db.session.get(Lead, 1).title != ""


def test_a_rep_cannot_open_or_change_another_teams_lead(client, auth, rep):
    other = db.session.scalar(select(Lead).where(Lead.team_id != rep.team_id))
    auth.login("rep1@example.com")
    assert client.get(f"/leads/{other.id}").status_code == 403
    assert client.post(f"/leads/{other.id}/edit", data={"title": "mine now"}).status_code == 403
    assert client.post(f"/leads/{other.id}/trash").status_code == 403


def test_a_rep_reads_but_cannot_edit_a_teammates_lead(client, auth, rep):
    mate = db.session.scalar(select(Lead).where(Lead.team_id == rep.team_id, Lead.owner_id != rep.id))
    auth.login("rep1@example.com")
    page = client.get(f"/leads/{mate.id}")
    assert page.status_code == 200 and b">Edit<" not in page.data
    assert client.get(f"/leads/{mate.id}/edit").status_code == 403


def test_creating_a_lead_geocodes_the_city_offline(client, auth):
    auth.login()
    response = client.post("/leads/new", data={"title": "Walk-in", "owner": "", "status": "", "city": "Malmö", "country": "Sweden"})
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead).where(Lead.title == "Walk-in"))
    assert lead.lat == pytest.approx(55.6, abs=0.1) and lead.lng == pytest.approx(13.0, abs=0.1)


def test_trash_and_restore_are_logged(client, auth):
    auth.login()
    client.post("/leads/4/trash")
    assert db.session.get(Lead, 4).deleted_at is not None
    assert b"in the trash" in client.get("/leads/4").data
    client.post("/leads/4/restore")
    kinds = [e.kind for e in db.session.scalars(timeline_select("lead", 4))]
    assert db.session.get(Lead, 4).deleted_at is None and kinds[:2] == ["restore", "delete"]


def test_notes_and_activities_attach_to_the_record(client, auth):
    auth.login()
    client.post("/leads/1/notes", data={"body": "Called, wants a demo"})
    client.post("/leads/1/activities", data={"kind": "meeting", "subject": "Demo at their office",
                                             "due_at": "2030-01-02T10:00"})
    assert db.session.scalar(select(Note.body).where(Note.lead_id == 1).order_by(Note.id.desc())) == "Called, wants a demo"
    assert db.session.scalar(select(func.count(Activity.id)).where(Activity.subject == "Demo at their office")) == 1
    assert client.post("/leads/1/activities", data={"kind": "call", "subject": "x", "due_at": "tomorrow"}).status_code == 303


def test_leads_switched_off_are_hidden_and_refused(client, auth):
    db.session.merge(Setting(key="use_leads", value="no"))
    db.session.commit()
    auth.login()
    assert client.get("/").location.endswith("/deals/")
    assert client.get("/leads/").status_code == 403
    assert b'href="/leads/"' not in client.get("/deals/").data


def test_custom_fields_appear_in_the_filter_bar_and_filter_the_list(client, auth):
    from crm.models import CustomField
    db.session.add(CustomField(record_type="lead", key="segment", label="Segment", kind="choice",
                               choices=["SMB", "Enterprise"]))
    db.session.get(Lead, 7).custom = {"segment": "Enterprise"}
    db.session.commit()
    auth.login()
    page = client.get("/leads/?cf_segment=Enterprise")
    assert b'<select name="cf_segment">' in page.data and b"<strong>1</strong>" in page.data


def test_form_fields_only_carry_aria_error_attributes_when_in_error(client, auth):
    auth.login()
    form = client.get("/leads/new").get_data(as_text=True)
    assert 'aria-invalid="None"' not in form and 'aria-describedby="None"' not in form
    invalid = client.post("/leads/new", data={"title": ""}).get_data(as_text=True)
    assert 'aria-describedby="title-error"' in invalid and 'aria-invalid="true"' in invalid


@pytest.mark.parametrize("model, plural", [(Lead, "leads"), (Deal, "deals"), (Contact, "contacts"),
                                            (Organization, "organizations")])
def test_edit_forms_open_on_the_records_current_choices(client, auth, model, plural):
    record = db.session.scalar(select(model).where(model.owner_id.is_not(None)).order_by(model.id))
    auth.login()
    form = client.get(f"/{plural}/{record.id}/edit").get_data(as_text=True)
    assert f'<option selected value="user:{record.owner_id}">' in form
    for name in ("status", "stage", "organization", "contact"):
        value = getattr(record, f"{name}_id", None)
        if value:
            assert f'<option selected value="{value}">' in form, name


def test_reps_filter_by_owners_of_their_own_team(client, auth):
    auth.login("rep1@example.com")  # North
    owners = client.get("/leads/").get_data(as_text=True).split('name="owner"')[1].split("</select>")[0]
    assert "Lars Berg" in owners and "Hugo Martin" not in owners  # rep2 North, rep4 South


def test_the_sorted_column_header_carries_aria_sort(client, auth):
    auth.login()
    page = client.get("/leads/?sort=-value").get_data(as_text=True)
    assert '<th scope="col" aria-sort="descending">' in page


@pytest.mark.parametrize("plural, first", [("leads", "title"), ("deals", "title"), ("contacts", "name"),
                                           ("organizations", "name")])
def test_create_forms_start_with_the_records_name_and_end_with_its_place(client, auth, plural, first):
    auth.login()
    form = client.get(f"/{plural}/new").get_data(as_text=True).split('id="record-form"')[1]  # not the menu's forms
    names = [n for n in re.findall(r'<(?:input|select|textarea)[^>]* name="([a-z_]+)"', form) if n != "csrf_token"]
    assert names[0] == first and names.index("address") > names.index("email")


def test_a_record_of_an_inactive_owner_can_still_be_edited(client, auth):
    lead = db.session.scalar(select(Lead).where(Lead.owner_id.is_not(None)).order_by(Lead.id))
    owner = lead.owner
    owner.active = False
    db.session.commit()
    auth.login()
    form = client.get(f"/leads/{lead.id}/edit").get_data(as_text=True)
    assert f'<option selected value="user:{owner.id}">' in form
    response = client.post(f"/leads/{lead.id}/edit", data={
        "title": "Renamed", "owner": f"user:{owner.id}", "status": str(lead.status_id or "")})
    assert response.status_code == 303
    db.session.expire_all()
    assert (lead.title, lead.owner_id) == ("Renamed", owner.id)
    response = client.post("/leads/new", data={"title": "New", "owner": f"user:{owner.id}", "status": ""})
    assert response.status_code == 422  # not offered for new records
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.title == "New")) == 0


def test_an_organization_page_lists_its_contacts_and_deals_and_a_contact_its_deals(client, auth):
    from crm.models import Contact, Deal, Organization
    org = db.session.get(Organization, 1)
    contact = db.session.scalar(select(Contact).order_by(Contact.id))
    contact.organization_id = org.id
    deals = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id).limit(2)).all()
    for deal in deals:
        deal.organization_id, deal.contact_id = org.id, contact.id
    db.session.commit()
    n_contacts = db.session.scalar(select(func.count(Contact.id)).where(Contact.organization_id == org.id,
                                                                       Contact.deleted_at.is_(None)))
    n_deals = db.session.scalar(select(func.count(Deal.id)).where(Deal.organization_id == org.id,
                                                                 Deal.deleted_at.is_(None)))
    auth.login()
    page = client.get(f"/organizations/{org.id}").get_data(as_text=True)
    assert f"Contacts ({n_contacts})" in page and f"Deals ({n_deals})" in page
    assert f'href="/contacts/{contact.id}"' in page and all(f'href="/deals/{d.id}"' in page for d in deals)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Deals (" in page and all(f'href="/deals/{d.id}"' in page for d in deals)
    assert "Contacts (" not in page


def test_related_lists_show_only_what_the_viewer_may_see(app, admin):
    from crm.models import Deal, Organization
    from crm.services.permissions import can_view
    from crm.services.record_types import ORGANIZATION
    from crm.services.related import related_records
    from tests.conftest import user
    org = db.session.get(Organization, 1)
    for deal in db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None))).all():
        deal.organization_id = org.id
    db.session.commit()
    rep = user("rep1@example.com")
    everything = {s.rtype.name: s for s in related_records(db.session, ORGANIZATION, org.id, admin)}
    mine = {s.rtype.name: s for s in related_records(db.session, ORGANIZATION, org.id, rep)}
    assert all(can_view(rep, d) for d in mine["deal"].records)
    assert mine["deal"].count == sum(can_view(rep, d) for d in everything["deal"].records) < everything["deal"].count


def test_the_list_offers_rows_per_page(client, auth):
    auth.login()
    page = client.get("/leads/?per_page=25&sort=value").get_data(as_text=True)
    assert '<nav class="per-page" aria-label="Rows per page">' in page and '<strong aria-current="true">25</strong>' in page
    assert 'href="?sort=value&amp;per_page=100"' in page  # the sort (and filter) stay


def test_a_new_lead_starts_in_the_first_open_status(client, auth):
    first_open = db.session.scalar(select(LeadStatus.id).where(LeadStatus.kind == "open").order_by(LeadStatus.position))
    auth.login()
    assert f'<option selected value="{first_open}">' in client.get("/leads/new").get_data(as_text=True)
    client.post("/leads/new", data={"title": "No status chosen", "status": "", "owner": ""})
    assert db.session.scalar(select(Lead.status_id).where(Lead.title == "No status chosen")) == first_open
