"""An admin sets up a pool and a web form; visitors submit twice; a CSV with a pool owner column is imported."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, User
from e2e.helpers import login


def names(ids):
    return [db.session.get(User, i).name for i in ids]


def create_pool(page: Page, server: str, name: str, members: tuple[str, ...]) -> None:
    """An admin creates a lead pool on the pool pages and adds members in order."""
    page.goto(f"{server}/admin/pools/")
    page.get_by_label("Pool name").fill(name)
    page.get_by_role("button", name="Create pool").click()
    for person in members:
        page.get_by_label("Add member").select_option(label=person)
        page.get_by_role("button", name="Add to pool").click()


def test_two_web_form_submissions_go_to_consecutive_pool_members(page: Page, live_server, app_db):
    login(page, live_server)
    create_pool(page, live_server, "Inbound EU", ("Ana Ruiz", "Lars Berg"))
    expect(page.locator(".pool-preview li").first).to_have_text("Ana Ruiz")
    page.goto(f"{live_server}/admin/forms/")
    page.get_by_label("Form name").fill("Contact us")
    page.get_by_role("button", name="Create form").click()
    page.get_by_label("Default owner or pool").select_option(label="Pool: Inbound EU (round robin)")
    page.get_by_label("Source label").fill("Website form")
    page.get_by_label("Accept submissions").check()
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_label("HTML snippet to paste into your website")).to_contain_text("/f/contact-us")
    page.get_by_role("button", name="Log out").click()
    for name, email in (("Eva Lind", "eva@acme.com"), ("Olle Berg", "olle@beta.com")):
        page.goto(f"{live_server}/f/contact-us")
        page.get_by_label("Your name").fill(name)
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Thank you! We received your message")).to_be_visible()
    with app_db():
        owners = db.session.scalars(select(Lead.owner_id).where(Lead.source == "Website form").order_by(Lead.id)).all()
        assert names(owners) == ["Ana Ruiz", "Lars Berg"]
    login(page, live_server)
    page.goto(f"{live_server}/leads/?q=acme.com")
    expect(page.locator("#record-rows")).to_contain_text("Eva Lind")


def test_import_a_csv_with_a_pool_owner_column_dry_run_then_run(page: Page, live_server, app_db, tmp_path):
    login(page, live_server)
    create_pool(page, live_server, "Inbound EU", ("Ana Ruiz", "Lars Berg"))
    csv_file = tmp_path / "hubspot.csv"
    csv_file.write_text("First Name,Last Name,Email,Company Name,Contact owner\n"
                        "Eva,Lind,eva@acme.com,Acme,Inbound EU\n"
                        "Olle,Berg,olle@beta.com,Beta,Inbound EU\n"
                        "Bad,Row,not-an-email,Gamma,\n", encoding="utf-8")
    page.goto(f"{live_server}/import/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_label("Column “Contact owner” goes to")).to_have_value("owner")
    page.get_by_role("button", name="Dry run").click()
    expect(page.get_by_role("heading", name="Dry run: nothing was written")).to_be_visible()
    expect(page.locator(".report-counts")).to_contain_text("2 would be created")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator(".report-counts")).to_contain_text("1 rejected")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download rejected rows").click()
    content = open(download.value.path(), encoding="utf-8").read()
    assert "error" in content.splitlines()[0] and "not an email address" in content
    with app_db():
        owners = db.session.scalars(select(Lead.owner_id).where(Lead.email.in_(["eva@acme.com", "olle@beta.com"]))
                                    .order_by(Lead.id)).all()
        assert names(owners) == ["Ana Ruiz", "Lars Berg"]
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
