"""The standing XSS and CSP check in a real browser: markup stored in every text field shows as text
on every page (the map included), no script runs, and no page breaks the Content-Security-Policy."""
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import String, select, update

from crm.extensions import db
from crm.models import (
    Activity, Batch, Contact, CustomField, Deal, Lead, LeadStatus, Note, Organization, Pipeline, Pool, SavedList,
    Stage, Team, Territory, User,
)
from crm.models.pools import CaptureForm
from e2e.helpers import login
from e2e.test_map import REYKJAVIK, city_cluster, open_map  # noqa: F401  (a fixture)

MARK = "Zq7"  # a marker to find the payload as text
PAYLOAD = f"{MARK}\"'><img src=x onerror=alert(1)><script>alert(2)</script><svg onload=alert(3)>"
# Text columns people type into (names, titles, notes...), per model; emails and ids keep their form.
SKIP = {"email", "password_hash", "token_hash", "color", "currency", "kind", "role", "slug", "record_type",
        "key", "status", "action", "deleted_batch_id", "owner_choice", "allowed_origins", "path", "encoding",
        "delimiter", "locale", "website", "phone", "sort", "query", "geojson", "fields"}
MODELS = (Lead, Deal, Contact, Organization, User, Team, LeadStatus, Pipeline, Stage, Territory, Pool, Note,
          Activity, SavedList, CaptureForm, CustomField, Batch)

# Catches what the page reports: CSP violations (event) and script that ran (a global set by a payload).
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def hostile_text(app_db) -> None:
    """Put the payload in every free-text column of every row (keeping the text unique where it must be)."""
    with app_db():
        for model in MODELS:
            table = model.__table__
            columns = [c for c in table.columns if isinstance(c.type, String) and not c.primary_key
                       and not c.foreign_keys and c.name not in SKIP]
            for row_id in db.session.scalars(select(table.c.id)):
                values = {c.name: f"{row_id} {PAYLOAD}"[:c.type.length or 10_000] for c in columns}
                if values:
                    db.session.execute(update(table).where(table.c.id == row_id).values(values))
        db.session.commit()


def pages_to_visit(app_db) -> list[str]:
    with app_db():
        first = {m.__name__: db.session.scalar(select(m.id).order_by(m.id)) for m in (Lead, Deal, Contact, Organization)}
        batch = db.session.scalar(select(Batch.id).limit(1))
        pool = db.session.scalar(select(Pool.id).limit(1))
        form = db.session.scalar(select(CaptureForm.id).limit(1))
    urls = ["/leads/", "/deals/", "/contacts/", "/organizations/", "/pipeline", "/activity", "/trash",
            "/notifications", "/admin/", "/admin/pools/", "/admin/forms/", "/import/", "/leads/duplicates",
            "/contacts/duplicates", "/organizations/duplicates", "/leads/new", "/deals/new",
            f"/leads/{first['Lead']}", f"/leads/{first['Lead']}/edit", f"/deals/{first['Deal']}",
            f"/deals/{first['Deal']}/edit", f"/contacts/{first['Contact']}", f"/organizations/{first['Organization']}",
            f"/leads/{first['Lead']}/similar", f"/leads/{first['Lead']}/convert",
            f"/deals/{first['Deal']}/convert-to-lead", "/bulk/drawer?type=lead&all=1",
            f"/leads/merge?ids={first['Lead']},{first['Lead'] + 1}"]
    if batch:
        urls.append(f"/bulk/{batch}")
    if pool:
        urls.append(f"/admin/pools/{pool}")
    if form:
        urls.append(f"/admin/forms/{form}")
    return urls


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 500, f"{url}: {response.status if response else 'no answer'}"
    page.wait_for_load_state("load")


def test_markup_in_every_text_field_stays_text_everywhere_and_no_page_breaks_the_csp(
        page: Page, live_server, app_db):
    hostile_text(app_db)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(f"{page.url}: {d.message}"), d.dismiss()))
    page.add_init_script(WATCH)
    with app_db():
        admin_email = db.session.scalar(select(User.email).where(User.role == "admin"))
    login(page, live_server, admin_email)
    violations: dict[str, list[str]] = {}
    for url in pages_to_visit(app_db):
        visit(page, live_server + url)
        found = page.evaluate("window.__csp")
        if found:
            violations[url] = found
        assert page.locator("img[src='x'], svg[onload]").count() == 0, url
    visit(page, live_server + "/leads/")
    expect(page.get_by_text(MARK).first).to_be_visible()  # the payload is shown, as text
    assert dialogs == [], dialogs
    assert violations == {}, violations


def test_the_map_shows_hostile_titles_and_owner_names_as_text(page: Page, live_server, app_db, city_cluster):
    hostile_text(app_db)
    with app_db():
        admin_email = db.session.scalar(select(User.email).where(User.role == "admin"))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(WATCH)
    login(page, live_server, admin_email)
    open_map(page, live_server)
    with page.expect_response(re.compile(r"/points\?")):
        page.evaluate("([lat, lng]) => void document.getElementById('map').leafletMap.setView([lat, lng], 13)",
                      list(REYKJAVIK))
    page.get_by_role("button", name="Select in view").click()  # the pick list: titles and owner names
    expect(page.locator("#lasso-picks")).to_contain_text(MARK)
    # (popups and tooltips with a hostile title: e2e/test_map.py, the map's own test)
    assert page.locator("img[src='x'], svg[onload]").count() == 0
    assert dialogs == []
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize("email", ["manager@example.com", "rep1@example.com"])
def test_pages_a_manager_and_a_rep_open_keep_the_csp(page: Page, live_server, email):
    page.add_init_script(WATCH)
    login(page, live_server, email)
    for url in ("/leads/", "/deals/", "/pipeline", "/map", "/activity", "/trash", "/contacts/"):
        visit(page, live_server + url)
        assert page.evaluate("window.__csp") == [], url
