"""An admin sets up a pool and a web form; visitors submit twice; a CSV with a pool owner column is imported."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, User
from e2e.helpers import login


def names(ids):
    return [db.session.get(User, i).name for i in ids]


def create_pool(page: Page, server: str, name: str, members: tuple[str, ...], record_type: str = "lead") -> None:
    """An admin creates a pool on the pool pages and adds members in order."""
    page.goto(f"{server}/admin/pools/")
    page.get_by_label("Pool name").fill(name)
    page.get_by_label("Record type").select_option(record_type)
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


def test_a_pool_passes_over_who_cannot_open_leads_spreads_a_selection_and_converts_through_contact_pools(
        page: Page, live_server, app_db):
    """Leads are off for team South: the pool page warns about Hugo and never hands him a lead; a
    mass reassign says how it spread; history names the pool; the Convert dialog takes a contact pool."""
    from crm.models import Contact, Team
    with app_db():
        db.session.scalar(select(Team).where(Team.name == "South")).leads_enabled = False
        db.session.commit()
    login(page, live_server)
    create_pool(page, live_server, "Mixed teams", ("Ana Ruiz", "Hugo Martin", "Lars Berg"))
    expect(page.locator(".message.warning")).to_contain_text(
        "Hugo Martin cannot open leads: they are switched off for team South")
    expect(page.locator(".pool-preview li")).to_have_text(["Ana Ruiz", "Lars Berg"] * 5)
    page.set_viewport_size({"width": 375, "height": 800})
    expect(page.locator(".message.warning")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"{live_server}/leads/?sort=title")
    rows = page.locator("#record-rows tbody tr")
    ticked = []
    for i in range(3):
        box = rows.nth(i).locator("input[name=ids]")
        box.check()
        ticked.append(int(box.get_attribute("value")))
    page.get_by_role("button", name="Mass change (3 records)").click()
    drawer = page.locator("#bulk-drawer")
    drawer.locator("summary", has_text="Reassign").click()
    drawer.get_by_label("New owner").select_option(label="Pool: Mixed teams (round robin)")
    expect(drawer).to_contain_text("to Pool: Mixed teams (round robin)")  # the drawer is drawn again first
    drawer.get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    drawer.get_by_role("button", name="Yes, reassign").click()
    expect(page.locator("#bulk-drawer")).to_contain_text(
        "Reassigned through the pool Mixed teams — 3 leads: Ana Ruiz 2, Lars Berg 1.")
    with app_db():
        first = db.session.get(Lead, min(ticked))  # the pool takes the records in id order
        assert names([first.owner_id]) == ["Ana Ruiz"]
    page.goto(f"{live_server}/leads/{first.id}")
    expect(page.locator("#timeline")).to_contain_text("to Ana Ruiz (pool Mixed teams) (mass change by Admin)")

    create_pool(page, live_server, "Inbound contacts", ("Sofia Rossi",), "contact")
    create_pool(page, live_server, "Key accounts", ("Lars Berg",), "deal")

    page.goto(f"{live_server}/leads/{first.id}")
    page.get_by_role("link", name="Convert", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Deal name")).to_have_value(first.title)
    expect(dialog.get_by_label("Team")).to_have_value(str(first.team_id))
    owner = dialog.get_by_label("Salesperson")
    deal_pool = owner.locator("option", has_text="Pool: Key accounts (round robin)")
    expect(deal_pool).to_be_enabled()
    dialog.get_by_label("Create a deal").uncheck()
    expect(deal_pool).to_be_disabled()
    owner.select_option(label="Pool: Inbound contacts (round robin)")
    dialog.get_by_role("button", name="Convert").click()
    expect(page.get_by_text("Lead converted into")).to_be_visible()
    with app_db():
        lead = db.session.get(Lead, first.id)
        assert lead.converted_deal_id is None
        assert names([db.session.get(Contact, lead.converted_contact_id).owner_id]) == ["Sofia Rossi"]
    expect(page.locator("#timeline")).to_contain_text("owner set to Sofia Rossi (pool Inbound contacts)")
