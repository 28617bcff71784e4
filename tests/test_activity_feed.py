"""The activity feed links events about records and shows admin events (custom fields, users,
statuses, settings) as plain sentences: they have no record page to link to."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Role
from crm.services import admin as admin_service
from crm.services import history, lead_statuses


def add_cost_centre(admin):
    """A custom field the demo data does not have."""
    admin_service.add_custom_field(db.session, admin, {"record_type": "lead", "key": "cost_centre",
                                                       "label": "Cost centre", "kind": "text", "choices": ""})
    db.session.commit()


def test_the_feed_shows_an_added_custom_field_as_plain_text(client, auth, admin):
    add_cost_centre(admin)
    auth.login()
    page = client.get("/activity")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "added custom field “Cost centre” to leads" in text
    assert "custom_fields" not in text and "custom_field #" not in text


def test_every_kind_of_admin_event_renders_in_the_feed_and_its_fragment(client, auth, admin, rep):
    add_cost_centre(admin)
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
    add_cost_centre(admin)
    auth.login("rep1@example.com")
    page = client.get("/activity")
    assert page.status_code == 200 and "Activity" in page.text
    assert "Cost centre" not in page.text  # an admin's settings are not news for a rep


def feed_size(viewer) -> int:
    return db.session.scalar(select(func.count()).select_from(history.feed_select(viewer).subquery()))


def newest_feed_texts(viewer, n: int) -> list[str]:
    events = db.session.scalars(history.feed_select(viewer).limit(n)).all()
    return [v.text for v in history.describe(db.session, events)]


def test_a_deal_dragged_to_the_leads_is_one_feed_entry_and_a_second_drop_adds_none(client, auth, admin):
    from crm.models import Batch, Deal
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
    before = feed_size(admin)
    auth.login()
    for _ in range(2):  # a double drop: the second finds the deal converted and writes nothing
        response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "lead"},
                               headers={"Accept": "application/json"})
        assert response.status_code == 200
    assert feed_size(admin) == before + 1
    assert newest_feed_texts(admin, 1) == [f"Admin converted the deal “{deal.title}” to a lead"]
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.action == "convert")) == 1


def test_a_lead_converted_into_contact_organization_and_deal_is_one_feed_entry(client, auth, admin):
    from crm.models import Lead, Stage
    lead = db.session.scalar(select(Lead).where(Lead.converted_at.is_(None), Lead.company_name != "",
                                                Lead.person_name != "").order_by(Lead.id))
    stage = db.session.scalar(select(Stage).order_by(Stage.id))
    before = feed_size(admin)
    auth.login()
    response = client.post(f"/leads/{lead.id}/convert", data={
        "owner": f"user:{lead.owner_id}", "customer": "new", "create_deal": "y", "deal_title": "Fleet deal",
        "stage": str(stage.id), "action": "convert"})
    assert response.status_code == 303
    assert feed_size(admin) == before + 1
    assert newest_feed_texts(admin, 1)[0] == (f"Admin converted the lead “{lead.title}” into contact “{lead.person_name}”, "
                        f"organization “{lead.company_name}”, deal “Fleet deal”")
