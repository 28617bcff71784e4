"""A person creates an API token in Settings → API tokens and a script uses it over real HTTP:
a lead owned by a pool, a filtered list paged through `next`, a mass reassign with dry run and
confirmation. The docs page renders the document with Swagger UI under the app's CSP."""
import csv
import json
import re
import urllib.request

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import ApiToken, Lead, Pool, PoolMember
from e2e.helpers import login, user_id


def call(server: str, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(path if path.startswith("http") else f"{server}/api/v1{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return response.status, json.load(response)


def test_a_token_made_in_the_ui_drives_the_api_from_a_script(page: Page, live_server, app_db):
    with app_db():
        rep = user_id("rep2@example.com")
        db.session.add(Pool(name="Website", record_type="lead", members=[PoolMember(user_id=rep)]))
        db.session.commit()
    login(page, live_server)
    page.get_by_role("link", name="API tokens").first.click()
    page.get_by_label("Name").fill("Website sync")
    page.get_by_label("Scope").select_option(label="Read and write")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("it is shown only once")).to_be_visible()
    token = page.get_by_label("New token").input_value()
    last_used = page.get_by_role("row", name="Website sync").locator('[data-label="Last used"]')
    expect(last_used).to_have_text("Never")

    status, lead = call(live_server, token, "POST", "/leads", {"title": "From the website", "owner": "pool:Website"})
    assert status == 201 and lead["owner"] == rep
    seen, url = [], "/leads?owner=" + str(rep) + "&per_page=3"
    while url:
        _status, body = call(live_server, token, "GET", url)
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert lead["id"] in seen and len(seen) == body["count"]
    change = {"filter": {"owner": [str(rep)]}, "action": "reassign", "owner": "rep1@example.com"}
    _status, dry = call(live_server, token, "POST", "/leads/mass-change", change)
    assert dry["count"] == len(seen)
    _status, done = call(live_server, token, "POST", "/leads/mass-change", change | {"confirmation": dry["confirmation"]})
    assert done["changed"] == len(seen)
    with app_db():
        assert db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == rep)) == 0
        assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "Website sync")) is not None

    page.goto(f"{live_server}/settings/api-tokens/")
    expect(last_used).not_to_have_text("Never")
    page.get_by_role("button", name="Revoke Website sync").click()
    expect(page.get_by_role("row", name="Website sync")).to_contain_text("Revoked")


def test_the_api_docs_page_renders_the_document(page: Page, live_server):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.get_by_role("heading", name="Fieldbook CRM API")).to_be_visible()
    expect(page.get_by_text("/api/v1/leads/mass-change").first).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_an_admin_subscribes_a_webhook_and_reads_its_delivery_log(page: Page, live_server, app_db):
    from tests.test_webhooks import Receiver
    receiver = Receiver()
    try:
        login(page, live_server)
        page.goto(f"{live_server}/admin/")
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("record.created").check()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.locator("#messages")).to_contain_text("Subscribed.")
        page.goto(f"{live_server}/settings/api-tokens/")
        page.get_by_label("Name").fill("Hooks")
        page.get_by_label("Scope").select_option(label="Read and write")
        page.get_by_role("button", name="Create token").click()
        token = page.get_by_label("New token").input_value()
        status, lead = call(live_server, token, "POST", "/leads", {"title": "Hooked from a script"})
        assert status == 201
        assert [json.loads(body)["record"]["id"] for _headers, body in receiver.received] == [lead["id"]]
        page.goto(f"{live_server}/admin/webhooks/")
        row = page.get_by_role("row", name="record.created")
        expect(row.locator('[data-label="Status"]')).to_have_text("Delivered")
        expect(row.locator('[data-label="Response"]')).to_have_text("200")
        page.get_by_role("button", name=re.compile("Redeliver")).first.click()
        expect(page.locator("#messages")).to_contain_text("queued again")
        assert len(receiver.received) == 2
    finally:
        receiver.server.shutdown()


def test_the_export_button_downloads_the_filtered_list(page: Page, live_server, app_db):
    login(page, live_server)
    page.goto(f"{live_server}/leads/?q=a")
    page.get_by_text("Export", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        lines = list(csv.reader(file))
    assert lines[0][0] == "Title" and download.value.suggested_filename.endswith(".csv")
    with app_db():
        from crm.models import User
        from crm.services.filters import Filter, filtered_select
        from crm.services.record_types import LEAD
        admin = db.session.get(User, user_id("admin@example.com"))
        total = db.session.scalar(select(func.count()).select_from(filtered_select(LEAD, Filter(q="a"), admin).subquery()))
    assert len(lines) - 1 == total > 0
