"""An admin imports a Salesforce lead export: columns, the values it does not know, dry run, run, undo."""
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Lead, LeadStatus
from e2e.helpers import login

FIXTURE = Path(__file__).parent.parent / "tests" / "fixtures" / "salesforce-leads.csv"
IMPORTED = Lead.email.like("%.example")


def test_a_salesforce_lead_export_goes_in_with_its_values_mapped_and_comes_out_with_undo(page: Page, live_server,
                                                                                          app_db):
    login(page, live_server)
    page.goto(f"{live_server}/import/")
    page.get_by_label("CSV file").set_input_files(str(FIXTURE))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_label("Column “Lead Status” goes to")).to_have_value("status")
    page.get_by_label("Column “Title” goes to").select_option(label="Don't import")  # Salesforce's job title

    values = page.locator("#import-page")
    expect(page.get_by_role("heading", name="Values in the file")).to_be_visible()
    expect(page.get_by_role("table", name="Values of Status")).to_contain_text("Open - Not Contacted")
    for value, becomes in (("Open - Not Contacted", "New"), ("Working - Contacted", "Contacted"),
                           ("Closed - Converted", "Converted"), ("Web", "Website"),
                           ("Partner Referral", "Partner"), ("Integration User", "Lars Berg")):
        values.get_by_label(f"“{value}” becomes").select_option(label=becomes)
    values.get_by_label("“Closed - Not Converted” becomes").select_option(label="Create it as a new open status")
    expect(values.get_by_label("“Phone Inquiry” becomes")).to_have_value("new")  # a new source, as it stands
    page.screenshot(path="/tmp/import-values-1280.png", full_page=True)

    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Dry run: nothing was written")).to_be_visible()
    expect(page.locator(".report-counts")).to_contain_text("21 would be created")
    expect(page.locator(".report-counts")).to_contain_text("1 rejected")
    expect(page.get_by_role("heading", name="1 formula cell")).to_be_visible()
    expect(page.locator(".formula-cells")).to_contain_text('=HYPERLINK("http://promo.example/win"')
    with app_db():
        assert db.session.scalar(select(func.count(Lead.id)).where(IMPORTED)) == 0
        assert db.session.scalar(select(func.count()).where(LeadStatus.name == "Closed - Not Converted")) == 0
    # The choices stay on the page for the real run.
    expect(values.get_by_label("“Open - Not Contacted” becomes").locator("option:checked")).to_have_text("New")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator(".report-counts")).to_contain_text("21 created")
    with app_db():
        rows = db.session.execute(select(LeadStatus.name, func.count(Lead.id)).join(Lead.status).where(IMPORTED)
                                  .group_by(LeadStatus.name)).all()
        assert dict(rows) == {"New": 8, "Contacted": 8, "Converted": 3, "Closed - Not Converted": 2}
        assert db.session.scalar(select(func.count(Lead.id)).where(IMPORTED, Lead.source == "Web")) == 0
        assert db.session.scalar(select(Lead.title).where(Lead.email == "pierre.lefvre@lefvre.example")) \
            == "'=HYPERLINK(\"http://promo.example/win\",\"Lefèvre Transports\")"
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.screenshot(path="/tmp/import-done-375.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("link", name="Open the import's batch (undo from there)").click()
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("moved the 21 leads it created to the trash")).to_be_visible()
    with app_db():
        assert db.session.scalar(select(func.count(Lead.id)).where(IMPORTED, Lead.deleted_at.is_(None))) == 0
        assert db.session.scalar(select(func.count(Lead.id)).where(IMPORTED)) == 21
