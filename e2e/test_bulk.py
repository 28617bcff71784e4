"""An admin reshapes leads with the mass change drawer, then takes it back (Undo, trash)."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Lead
from e2e.helpers import login, user_id


def test_reassign_a_filtered_set_then_undo_it(page: Page, live_server, app_db, tmp_path):
    with app_db():
        ana, lars = user_id("rep1@example.com"), user_id("rep2@example.com")
        ids = db.session.scalars(select(Lead.id).where(Lead.owner_id == ana).order_by(Lead.id)).all()
    n = len(ids)
    login(page, live_server)
    page.goto(f"{live_server}/leads/")
    page.get_by_label("Owner").select_option(label="Ana Ruiz")
    expect(page.locator("#record-rows .count")).to_contain_text(f"{n} leads")
    button = page.get_by_role("button", name=re.compile(r"Mass change \("))
    expect(button).to_have_text("Mass change (0 records)")
    page.get_by_label(f"Select all {n} matching the filter").check()
    expect(button).to_have_text(f"Mass change ({n} records)")
    button.click()

    drawer = page.locator("#bulk-drawer")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#bulk-total")).to_have_text(f"{n} leads")
    expect(drawer).to_contain_text("By current owner")
    drawer.locator("summary", has_text="Reassign").click()
    drawer.get_by_label("New owner").select_option(label="Lars Berg")
    expect(drawer).to_contain_text(f"Reassign {n} leads from Ana Ruiz to Lars Berg")
    expect(drawer.get_by_role("button", name="Yes, reassign")).to_be_disabled()
    expect(drawer.get_by_role("button", name="Update the count")).to_be_hidden()
    page.screenshot(path=tmp_path / "bulk-drawer-1280.png")
    confirm = drawer.get_by_label("Type REASSIGN to confirm")
    yes = drawer.get_by_role("button", name="Yes, reassign")
    confirm.fill("REASIGN")
    expect(yes).to_be_disabled()
    yes.evaluate("b => { b.disabled = false; b.click(); }")  # a forced submit: the server refuses too
    expect(page.locator("#bulk-drawer")).to_contain_text("Type REASSIGN to confirm (you typed “REASIGN”). Nothing was changed.")
    with app_db():
        assert db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == lars, Lead.id.in_(ids))) == 0

    page.locator("#bulk-drawer").get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    yes = page.locator("#bulk-drawer").get_by_role("button", name="Yes, reassign")
    expect(yes).to_be_enabled()
    yes.click()
    expect(page.locator("#bulk-drawer")).to_contain_text(f"Reassigned {n} leads to Lars Berg.")
    expect(page.locator("#bulk-drawer").get_by_role("button", name="Undo")).to_be_visible()  # right beside it
    expect(page.get_by_text(f"Reassigned {n} leads to Lars Berg.")).to_have_count(1)  # one message, not two
    expect(page.locator("#record-rows .count")).to_contain_text("0 leads match the filter")  # refreshed in place
    page.locator("#bulk-drawer").get_by_role("link", name="Close").click()
    expect(page.locator("#bulk-drawer")).to_have_count(0)

    page.goto(f"{live_server}/leads/{ids[0]}")
    expect(page.locator("#timeline")).to_contain_text("owner changed from Ana Ruiz to Lars Berg (mass change by Admin)")
    page.goto(f"{live_server}/activity")
    page.get_by_role("link", name=f"Admin reassigned {n} leads to Lars Berg").click()
    expect(page.get_by_role("heading", name=f"Admin reassigned {n} leads to Lars Berg")).to_be_visible()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#messages")).to_contain_text(f"{n} leads back as before")
    with app_db():
        db.session.expire_all()
        assert db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids))).all() == [ana] * n


def test_delete_a_selection_and_restore_it_from_the_trash(page: Page, live_server, app_db):
    login(page, live_server)
    page.goto(f"{live_server}/leads/?sort=title")
    rows = page.locator("#record-rows tbody tr")
    titles = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(2)]
    for i in range(2):
        rows.nth(i).locator("input[name=ids]").check()
    button = page.get_by_role("button", name="Mass change (2 records)")
    button.click()
    drawer = page.locator("#bulk-drawer")
    expect(drawer.locator("#bulk-total")).to_have_text("2 leads")
    drawer.locator("summary", has_text="Delete records").click()
    drawer.get_by_label("Type DELETE to confirm").fill("DELETE")
    drawer.get_by_role("button", name="Yes, delete").click()
    expect(drawer).to_contain_text("Deleted 2 leads.")
    expect(page.locator("#record-rows .count")).to_contain_text("58 leads")
    with app_db():
        batch = db.session.scalars(select(Batch).where(Batch.action == "delete")).one()
        deleted = db.session.scalars(select(Lead.id).where(Lead.deleted_batch_id == batch.id)).all()
        assert len(deleted) == 2

    page.get_by_role("navigation", name="Main").first.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    for title in titles:
        expect(page.locator("#trash table")).to_contain_text(title.strip())
    page.get_by_role("button", name="Restore batch: Admin deleted 2 leads").click()
    expect(page.locator("#messages")).to_contain_text("Restored 2 leads from the trash.")
    expect(page.get_by_text("No leads in the trash.")).to_be_visible()
    with app_db():
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Lead.id)).where(Lead.deleted_at.is_not(None))) == 0


def test_the_drawer_fits_a_phone_screen(page: Page, live_server, tmp_path):
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    page.goto(f"{live_server}/deals/")
    page.get_by_text(re.compile(r"Select all \d+ matching the filter")).click()
    page.get_by_role("button", name=re.compile(r"Mass change \(\d+ records\)")).click()
    drawer = page.locator("#bulk-drawer")
    expect(drawer).to_contain_text("By stage")
    total = int(drawer.locator("#bulk-total").inner_text().split()[0])
    first_owner = drawer.locator(".bulk-table tbody tr").first
    left_out = int(first_owner.locator("td").nth(1).inner_text())
    first_owner.get_by_role("checkbox").check()  # leave that owner's deals out: the count follows
    expect(page.locator("#bulk-total")).to_have_text(f"{total - left_out} deals")
    drawer.locator("summary", has_text="Change stage").click()
    expect(drawer.get_by_label("Type CHANGE to confirm")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=tmp_path / "bulk-drawer-375.png")


def test_unticking_a_row_ends_select_all_matching(page: Page, live_server):
    login(page, live_server)
    page.goto(f"{live_server}/leads/?per_page=10")
    select_all = page.get_by_text(re.compile(r"Select all \d+ matching the filter"))
    select_all.click()
    button = page.get_by_role("button", name=re.compile(r"Mass change \("))
    expect(button).not_to_have_text("Mass change (10 records)")
    rows = page.locator("#record-rows tbody input[name=ids]")
    expect(rows.first).to_be_checked()
    rows.first.uncheck()
    expect(page.locator("[data-select-all]")).not_to_be_checked()
    expect(button).to_have_text("Mass change (9 records)")
    button.click()
    expect(page.locator("#bulk-total")).to_have_text("9 leads")
    page.keyboard.press("Escape")
    expect(page.locator("#bulk-drawer")).to_have_count(0)
    expect(button).to_be_focused()


def test_without_javascript_the_drawer_names_the_owner_and_undo_is_beside_the_outcome(browser, live_server, app_db):
    """No JS: the button does not pretend to count; the drawer page names the chosen owner before the
    confirmation; the one outcome message comes with Undo; ticked rows get no "applies to all" warning."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, live_server)
    page.goto(f"{live_server}/leads/?sort=title")
    button = page.get_by_role("button", name="Mass change", exact=True)
    expect(button).to_be_visible()
    rows = page.locator("#record-rows tbody input[name=ids]")
    ids = [int(rows.nth(i).get_attribute("value")) for i in range(2)]
    for i in range(2):
        rows.nth(i).check()
    button.click()
    drawer = page.locator("#bulk-drawer")
    expect(drawer.locator("#bulk-total")).to_have_text("2 leads")
    expect(drawer).not_to_contain_text("Each action below applies to all")
    drawer.locator("summary", has_text="Reassign").click()
    drawer.get_by_label("New owner").select_option(label="Sofia Rossi")
    drawer.get_by_role("button", name="Show the change").first.click()
    expect(drawer.locator(".statement").first).to_contain_text("to Sofia Rossi")
    drawer.get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    drawer.get_by_role("button", name="Yes, reassign").click()
    expect(page.get_by_text(re.compile(r"Reassigned \d leads? to Sofia Rossi\."))).to_have_count(1)
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    with app_db():
        sofia = user_id("rep3@example.com")
        assert set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids)))) == {sofia}
    context.close()


def test_the_boards_drawer_speaks_of_cards_and_stages(page: Page, live_server):
    login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    page.locator(".deal-card input[name=ids]").first.check()
    page.get_by_role("button", name="Mass change (1 record)").click()
    drawer = page.locator("#bulk-drawer")
    expect(drawer.locator("#bulk-total")).to_have_text("1 deal")
    expect(drawer).not_to_contain_text("Each action below applies to all")
    drawer.get_by_role("link", name="Close").click()
    page.get_by_text(re.compile(r"Select all \d+ matching the filter")).click()
    page.get_by_role("button", name=re.compile(r"Mass change \(\d+ records\)")).click()
    expect(drawer).to_contain_text("not only the cards you see on the board.")
    expect(drawer.locator("summary", has_text="Change stage")).to_be_visible()
    page.goto(f"{live_server}/leads/")
    page.get_by_text(re.compile(r"Select all \d+ matching the filter")).click()
    page.get_by_role("button", name=re.compile(r"Mass change \(\d+ records\)")).click()
    expect(drawer.locator("summary", has_text="Change status")).to_be_visible()
    expect(drawer).to_contain_text("not only the rows on this page of the list.")
