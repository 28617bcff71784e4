"""A Spanish and a Persian admin do the seed's mass reassign in their own language: the browser asks
for the language (Accept-Language), the page answers in it, Persian right to left (the drawer opens
from the left, the sidebar sits on the right), nothing of the flow is English, nothing overflows
sideways at 1280 or 375 px, and the change lands in the database.

Screenshots go to the test's tmp dir; with SCREENSHOTS_DIR set (docs/screenshots for the README)
they are written there too.
"""
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm import catalogs
from crm.models import Deal, Lead, User
from e2e.helpers import user_id
from e2e.test_pipeline import board_deal, drag

BROWSER_LOCALES = {"es": "es-ES", "fa": "fa-IR", "sv": "sv-SE"}
# English the drawer flow shows when a string escaped translation (words of our messages, not data).
ENGLISH = ("Mass change", "Reassign", "By current owner", "New owner", "Leave out", "will be changed",
           "Delete records", "Yes, reassign", "to confirm", "Close", "Each action below", "Records")


def _open(browser: Browser, code: str) -> Page:
    context = browser.new_context(locale=BROWSER_LOCALES[code], viewport={"width": 1280, "height": 900})
    return context.new_page()


def _login(page: Page, server: str, email: str = "admin@example.com") -> None:
    """Logs in without reading the (translated) labels."""
    page.goto(f"{server}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill("demo")
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _no_sideways_overflow(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        f"the page scrolls sideways at {page.viewport_size['width']} px"


def _shoot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path)
    if os.environ.get("SCREENSHOTS_DIR"):
        target = Path(os.environ["SCREENSHOTS_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)


def _translated(code: str, message: str) -> bool:
    entry = catalogs.read(code).get(message)
    return bool(entry and entry.string)


def _english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]


@pytest.mark.parametrize("code", [
    pytest.param("es", marks=pytest.mark.xfail(not _translated("es", "Mass change"), strict=False,
                                                reason="the es catalog is not translated yet (issue #13)")),
    "fa"])
def test_mass_reassign_from_the_list_in_the_users_language(browser: Browser, live_server, app_db, tmp_path, code):
    with app_db():
        ana, lars = user_id("rep1@example.com"), user_id("rep2@example.com")
        ids = db.session.scalars(select(Lead.id).where(Lead.owner_id == ana, Lead.deleted_at.is_(None))).all()
    page = _open(browser, code)
    _login(page, live_server)
    page.goto(f"{live_server}/leads/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", code)
    expect(html).to_have_attribute("dir", "rtl" if code == "fa" else "ltr")
    sidebar, main = page.locator("aside.sidebar").bounding_box(), page.locator("main").bounding_box()
    assert (sidebar["x"] > main["x"]) == (code == "fa")  # the sidebar sits on the reading side's start
    _no_sideways_overflow(page)

    page.locator("select[name=owner]").select_option(label="Ana Ruiz")
    expect(page.locator("#record-rows tbody tr")).to_have_count(min(len(ids), 25))
    page.locator("[data-select-all]").check()
    button = page.locator("[data-bulk-button]")
    expect(button).to_be_enabled()
    assert not _english_in(button.inner_text()), button.inner_text()
    button.click()

    drawer = page.locator("#bulk-drawer")
    expect(drawer).to_be_visible()
    drawer.locator("details.bulk-action summary").first.click()
    drawer.locator("#bulk-new-owner").select_option(label="Lars Berg")
    expect(drawer.locator("#bulk-new-owner")).to_have_value(f"user:{lars}")
    expect(drawer.locator("details.bulk-action").first.locator(".statement strong")).to_have_text("Lars Berg")
    box = drawer.bounding_box()
    if code == "fa":
        assert box["x"] == 0  # opens from the left
    else:
        assert abs(box["x"] + box["width"] - 1280) < 1  # opens from the right
    english = _english_in(drawer.inner_text())
    if code == "fa":  # "leads" is a Spanish word too; in Persian it would be English left over
        english += re.findall(r"\bleads?\b|\bfrom\b", drawer.inner_text())
    assert not english, f"English in the {code} drawer: {english}"
    _shoot(page, tmp_path, f"drawer-{code}-1280")

    page.set_viewport_size({"width": 375, "height": 800})
    expect(drawer).to_be_visible()
    _no_sideways_overflow(page)
    _shoot(page, tmp_path, f"drawer-{code}-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    confirm = drawer.locator("#bulk-confirm-reassign")
    word = confirm.get_attribute("data-confirm-word")
    assert word and word != "REASSIGN"  # a word of the language: es "REASIGNAR", fa "تخصیص"
    expect(drawer.locator("label[for=bulk-confirm-reassign]")).to_contain_text(word)
    yes = drawer.locator("#bulk-yes-reassign")
    expect(yes).to_be_disabled()
    confirm.fill(word)
    expect(yes).to_be_enabled()
    yes.click()
    done = page.locator("#bulk-drawer .bulk-done")
    expect(done).to_be_visible()
    assert not _english_in(done.inner_text()), done.inner_text()
    expect(done.locator("button[type=submit]")).to_be_visible()  # Undo, right beside the message
    with app_db():
        owners = set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids))))
    assert owners == {lars}
    page.context.close()


def test_the_user_menu_switches_the_language_and_stays_on_the_page(page: Page, live_server, app_db):
    _login(page, live_server, "rep1@example.com")
    page.goto(f"{live_server}/deals/?status=open")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switcher = page.get_by_label("Language")
    expect(switcher.locator("option[lang=sv]")).to_have_text("Svenska")  # each language by its own name
    switcher.select_option("sv")  # takes effect when chosen: no button to find in a language one cannot read
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert page.url.endswith("/deals/?status=open")
    with app_db():
        assert db.session.get(User, user_id("rep1@example.com")).locale == "sv"

    page.set_viewport_size({"width": 375, "height": 800})
    box = page.locator("#language-choice").bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    _no_sideways_overflow(page)
    page.locator("#language-choice").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    _no_sideways_overflow(page)
    page.locator("#language-choice").select_option("")  # back to the browser's language
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with app_db():
        assert db.session.get(User, user_id("rep1@example.com")).locale is None


def test_a_swedish_user_drags_a_deal_to_flytta_till_leads(browser: Browser, live_server, app_db, tmp_path):
    deal_id, _stage, _other = board_deal(app_db)
    page = _open(browser, "sv")
    _login(page, live_server)
    page.goto(f"{live_server}/pipeline")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator(".drop-zone.to-leads")).to_have_text("Flytta till leads")
    drag(page, deal_id, ".drop-zone.to-leads")
    dialog = page.locator("#drop-confirm")
    expect(dialog).to_be_visible()
    _shoot(page, tmp_path, "pipeline-sv-drop")
    ok = dialog.locator("button[value=ok]")
    expect(ok).to_have_text("Bekräfta")
    ok.click()
    expect(page.locator(f"#deal-{deal_id}")).to_have_count(0)
    with app_db():
        assert db.session.get(Deal, deal_id).deleted_at is not None
        assert db.session.scalar(select(Lead.id).where(Lead.origin_deal_id == deal_id)) is not None
    page.context.close()


def test_a_persian_user_converts_a_lead_in_a_mirrored_layout(browser: Browser, live_server, app_db, tmp_path):
    with app_db():
        lead_id = db.session.scalar(select(Lead.id).where(Lead.converted_at.is_(None), Lead.deleted_at.is_(None))
                                    .order_by(Lead.id).limit(1))
    page = _open(browser, "fa")
    _login(page, live_server)
    page.goto(f"{live_server}/leads/{lead_id}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    title, actions = page.locator(".page-head h1").bounding_box(), page.locator(".page-head .actions").bounding_box()
    assert title["x"] > actions["x"]  # the title reads from the right, its buttons sit on the left
    page.locator(".page-head .actions a[href$='/convert']").click()
    dialog = page.locator("#convert-dialog")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => getComputedStyle(d).direction") == "rtl"
    expect(dialog.locator("button[value=convert]")).to_have_text("تبدیل")
    _shoot(page, tmp_path, "convert-fa-1280")
    dialog.locator("button[value=convert]").click()
    expect(page).to_have_url(re.compile(r"/deals/\d+$"))  # on to the deal it made
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    with app_db():
        assert db.session.get(Lead, lead_id).converted_at is not None
    page.set_viewport_size({"width": 375, "height": 800})
    _no_sideways_overflow(page)
    page.context.close()
