"""The activity feed links events about records and shows admin events (custom fields, users,
statuses, settings) as plain sentences: they have no record page to link to."""
from crm.extensions import db
from crm.models import Role
from crm.services import admin as admin_service
from crm.services import history, lead_statuses


def add_budget_code(admin):
    admin_service.add_custom_field(db.session, admin, {"record_type": "lead", "key": "budget_code",
                                                       "label": "Budget code", "kind": "text", "choices": ""})
    db.session.commit()


def test_the_feed_shows_an_added_custom_field_as_plain_text(client, auth, admin):
    add_budget_code(admin)
    auth.login()
    page = client.get("/activity")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "added custom field “Budget code” to leads" in text
    assert "custom_fields" not in text and "custom_field #" not in text


def test_every_kind_of_admin_event_renders_in_the_feed_and_its_fragment(client, auth, admin, rep):
    add_budget_code(admin)
    lead_statuses.add_status(db.session, admin, "Parked", "open")
    admin_service.add_team(db.session, admin, "West")
    admin_service.save_user(db.session, admin, {"email": rep.email, "role": Role.MANAGER}, rep)
    admin_service.set_leads_enabled(db.session, admin, False)
    history.log(db.session, "lead", 1, admin.id, "note", new="still listed")
    db.session.commit()
    auth.login()
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get("/activity", headers=headers)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "added lead status “Parked”" in text and "added team “West”" in text
        assert f"user “{rep.name}”: role changed from rep to manager" in text
        assert "note added: still listed" in text  # events about records still show...
        assert 'href="/leads/1"' not in text  # ...but no link to a lead page that would answer 403 (leads are off)
    assert "<html" not in text


def test_a_rep_sees_the_feed_after_an_admin_changed_settings(client, auth, admin):
    add_budget_code(admin)
    auth.login("rep1@example.com")
    assert client.get("/activity").status_code == 200
