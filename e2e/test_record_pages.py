"""What a team reads on lists and record pages: sortable Source, Owner and Status columns."""
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, LeadStatus
from e2e.helpers import login


def test_sort_the_leads_list_by_status_then_by_source(page: Page, live_server, app_db):
    with app_db():
        first_lead = db.session.scalar(select(Lead).where(Lead.deleted_at.is_(None)).order_by(Lead.id))
        first_lead.source = "AAA fair"
        db.session.commit()
        first_id = first_lead.id
        statuses = [s.name for s in db.session.scalars(select(LeadStatus).order_by(LeadStatus.position))]
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server)
    page.goto(f"{live_server}/leads/?per_page=100")
    table = page.locator("table.records")
    table.get_by_role("link", name="Status").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Status")
    assert "sort=status" in page.url
    shown = table.locator("td[data-label=Status]").all_inner_texts()
    assert shown and [statuses.index(s.strip()) for s in shown] == sorted(statuses.index(s.strip()) for s in shown)

    table.get_by_role("link", name="Source").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Source")
    expect(table.locator("tbody tr").first).to_have_id(f"lead-{first_id}")
    table.get_by_role("link", name="Source ▲").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("Source")

    table.get_by_role("link", name="Owner").click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("Owner")
    owners = [o.strip() for o in table.locator("td[data-label=Owner]").all_inner_texts()]
    named = [o for o in owners if o != "—"]
    assert named == sorted(named) and owners[:len(named)] == named
