"""An admin edits users and switches leads off; the people affected see it when they log in."""
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.models import User
from e2e.helpers import login, user_id


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
