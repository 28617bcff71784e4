"""An admin edits users and switches leads off; the people affected see it when they log in."""
import re

from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.models import User
from e2e.helpers import login, user_id


def _menu(page: Page):
    return page.locator("aside.sidebar").get_by_role("navigation", name="Main")


def test_saving_a_user_untouched_keeps_their_team_and_a_new_user_starts_as_rep(page: Page, live_server, app_db):
    with app_db():
        manager = db.session.get(User, user_id("manager@example.com"))
        before = (manager.role, manager.team_id, manager.active, manager.can_convert_deals)
    login(page, live_server)
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Maria Manager").click()
    expect(page.get_by_label("Team")).to_have_value(str(before[1]))
    expect(page.get_by_label("Role")).to_have_value("manager")
    page.get_by_role("button", name="Save user").click()
    expect(page.locator("#messages")).to_contain_text("Saved Maria Manager.")
    with app_db():
        manager = db.session.get(User, manager.id)
        assert (manager.role, manager.team_id, manager.active, manager.can_convert_deals) == before
    page.get_by_role("link", name="New user").click()
    expect(page.get_by_label("Role")).to_have_value("rep")


def test_with_leads_switched_off_people_land_on_deals_and_see_only_what_they_may_use(page: Page, live_server):
    login(page, live_server)
    page.goto(f"{live_server}/admin/")
    page.get_by_role("button", name="Switch leads off for everyone").click()
    leads_of_north = page.get_by_role("row", name=re.compile("North")).locator('[data-label="Leads"]')
    expect(leads_of_north).to_have_text("off — leads are switched off for everyone")
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "manager@example.com")
    expect(page).to_have_url(f"{live_server}/deals/")
    expect(_menu(page).get_by_role("link", name="Leads")).to_have_count(0)
    expect(_menu(page).get_by_role("link", name="Import")).to_be_visible()
    assert page.goto(f"{live_server}/leads/duplicates").status == 403
    expect(page.get_by_text("Leads are switched off for your team.")).to_be_visible()
    page.goto(f"{live_server}/trash")
    expect(page.get_by_role("navigation", name="Record types").get_by_role("link", name=re.compile("Leads"))).to_have_count(0)
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "rep1@example.com")
    expect(page).to_have_url(f"{live_server}/deals/")
    expect(_menu(page).get_by_role("link", name="Deals")).to_be_visible()
    expect(_menu(page).get_by_role("link", name="Import")).to_have_count(0)
