"""A manager saves a filter as a smart list, opens it from the sidebar and reassigns all of it."""
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead
from e2e.helpers import login, user_id


def test_save_a_smart_list_open_it_and_reassign_its_owner(page: Page, live_server, app_db):
    with app_db():
        ana, lars = user_id("rep1@example.com"), user_id("rep2@example.com")
        ids = db.session.scalars(select(Lead.id).where(Lead.owner_id == ana)).all()
    login(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/leads/")
    page.get_by_label("Owner").select_option(label="Ana Ruiz")
    expect(page.locator("#record-rows .count")).to_contain_text(f"{len(ids)} leads")
    page.get_by_text("Save as smart list").click()
    page.get_by_label("Smart list name").fill("Ana's leads")
    page.get_by_role("button", name="Save smart list").click()
    expect(page.locator("#messages")).to_contain_text("Saved smart list “Ana's leads”.")
    assert page.url.endswith(f"/leads/?owner={ana}")  # the URL holds the filter only, no token

    page.goto(f"{live_server}/leads/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ana's leads").click()
    expect(page.locator("#record-rows")).to_contain_text("Smart list Ana's leads")
    views = page.get_by_role("navigation", name="Views of this filter")
    expect(views.get_by_role("link", name="Map")).to_have_attribute("href", f"/map?type=lead&owner={ana}")
    page.get_by_role("link", name="Reassign owner").click()

    drawer = page.locator("#bulk-drawer")
    expect(drawer.locator("#bulk-total")).to_have_text(f"{len(ids)} leads")
    drawer.get_by_label("New owner").select_option(label="Lars Berg")
    expect(drawer).to_contain_text(f"Reassign {len(ids)} leads from Ana Ruiz to Lars Berg")  # the drawer re-rendered
    drawer.get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    drawer.get_by_role("button", name="Yes, reassign").click()
    expect(drawer).to_contain_text(f"Reassigned {len(ids)} leads to Lars Berg.")
    with app_db():
        owners = set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids))))
    assert owners == {lars}
