"""An admin renames a lead status, moves it up, removes another one whose leads move to it, and
the leads list filtered by it shows them all."""
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Lead, LeadStatus
from e2e.helpers import login


def _live_leads_with(*names: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Lead).join(LeadStatus)
                             .where(LeadStatus.name.in_(names), Lead.deleted_at.is_(None)))


def test_rename_move_and_remove_a_status_whose_leads_move_to_another(page: Page, live_server, app_db):
    with app_db():
        expected = _live_leads_with("New", "Contacted")
        moving = db.session.scalar(select(func.count()).select_from(Lead).join(LeadStatus)
                                   .where(LeadStatus.name == "New"))
    assert moving
    login(page, live_server)
    page.goto(f"{live_server}/admin/")
    statuses = page.locator("#lead-statuses")

    statuses.get_by_role("link", name="Contacted").click()
    page.get_by_label("Status name").fill("Reached")
    page.get_by_role("button", name="Save status").click()
    expect(page.locator("#messages")).to_contain_text("Saved status “Reached”.")

    page.get_by_role("button", name="Move “Reached” up").click()
    expect(page.locator("#messages")).to_contain_text("Moved “Reached” up.")
    expect(statuses.get_by_role("link")).to_have_text(["Reached", "New", "Qualified", "Unqualified", "Converted"])
    expect(page.get_by_role("button", name="Move “Reached” up")).to_have_count(0)

    statuses.get_by_role("link", name="New").click()
    page.get_by_role("button", name="Remove status “New”").click()
    expect(page.get_by_role("alert")).to_contain_text("use “New”: choose the status they move to.")
    page.get_by_label("Move its leads to").select_option(label="Reached (open)")
    page.get_by_role("button", name="Remove status “New”").click()
    summary = f"Admin removed status “New”: {moving} lead{'s' if moving != 1 else ''} moved to “Reached”"
    expect(page.get_by_role("heading", level=1)).to_have_text(summary)
    expect(page.get_by_role("button", name="Undo")).to_be_visible()

    page.goto(f"{live_server}/leads/")
    expect(page.get_by_label("Status").locator("option")).to_have_text(
        ["Any status", "Reached", "Qualified", "Unqualified", "Converted"])
    page.get_by_label("Status").select_option(label="Reached")
    expect(page.locator("#record-rows .count")).to_contain_text(f"{expected} lead")
    expect(page.locator("#record-rows").get_by_text("New", exact=True)).to_have_count(0)
