"""An admin writes an assignment rule; a new lead from the form goes where the rule says and its history
names the rule; then "Run rules" in the mass-change drawer re-routes the filter result."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Lead
from e2e.helpers import login, user_id


def test_admin_routes_new_and_existing_leads_by_rules(page: Page, live_server, app_db):
    with app_db():
        ana, lars = user_id("rep1@example.com"), user_id("rep2@example.com")
        db.session.execute(update(Lead).values(owner_id=lars))
        db.session.commit()
        web = db.session.scalar(select(func.count()).where(Lead.source == "Web form", Lead.deleted_at.is_(None)))
    assert web
    login(page, live_server)
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Assignment rules").click()
    page.get_by_label("Rule name").fill("Web leads to Ana")
    page.get_by_label("Condition 1 kind").select_option(label="Source is")
    page.get_by_label("Condition 1 value").fill("Web form")
    page.get_by_label("Give the lead to").select_option(label="Ana Ruiz")
    page.get_by_role("button", name="Add assignment rule").click()
    expect(page.locator("#assignment-rules")).to_contain_text("source Web form")
    expect(page.locator("#assignment-rules")).to_contain_text("Ana Ruiz")

    page.goto(f"{live_server}/leads/new")
    expect(page.get_by_label("Owner")).to_have_value("rules")
    page.get_by_label("Title").fill("Routed by rule")
    page.get_by_label("Source").fill("Web form")
    page.get_by_role("button", name=re.compile("Create|Save")).click()
    expect(page.locator("#timeline")).to_contain_text("assignment rule “Web leads to Ana”")
    with app_db():
        assert db.session.scalar(select(Lead.owner_id).where(Lead.title == "Routed by rule")) == ana

    page.goto(f"{live_server}/leads/")
    page.get_by_label(re.compile(r"Select all \d+ matching the filter")).check()
    page.get_by_role("button", name=re.compile(r"Mass change \(")).click()
    drawer = page.locator("#bulk-drawer")
    drawer.locator("summary", has_text="Run rules").click()
    expect(drawer.locator(".route-preview")).to_contain_text("Web leads to Ana")
    drawer.get_by_label("Type ROUTE to confirm").fill("ROUTE")
    drawer.get_by_role("button", name="Yes, run the rules").click()
    expect(drawer).to_contain_text(f"Routed {web} leads by the assignment rules.", timeout=20_000)
    expect(drawer).to_contain_text("matched no rule and kept their owners")
    expect(drawer.get_by_role("button", name="Undo")).to_be_visible()
    page.screenshot(path="/tmp/lead-shots/run-rules-1280.png")
    with app_db():
        mine = select(func.count()).where(Lead.deleted_at.is_(None), Lead.owner_id == ana)
        assert db.session.scalar(mine.where(Lead.source == "Web form")) == web + 1
        assert db.session.scalar(mine.where(Lead.source != "Web form")) == 0
