"""A person logs in, filters leads, reloads, edits a lead and sees the change in its history."""
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Deal, Lead
from e2e.helpers import login, user_id


def test_filter_leads_by_owner_survives_a_reload(page: Page, live_server, app_db):
    login(page, live_server)
    page.goto(f"{live_server}/leads/")
    with app_db():
        ana = user_id("rep1@example.com")
        expected = db.session.scalar(select(db.func.count(Lead.id)).where(Lead.owner_id == ana))
    page.get_by_label("Owner").select_option(label="Ana Ruiz")
    expect(page).to_have_url(re.compile(rf"owner={ana}"))
    expect(page.locator("#record-rows .count")).to_contain_text(f"{expected} leads")
    page.reload()
    expect(page.locator("#record-rows .count")).to_contain_text(f"{expected} leads")
    expect(page.get_by_label("Owner")).to_have_value(str(ana))


def test_editing_a_lead_shows_the_change_in_its_timeline(page: Page, live_server, app_db):
    login(page, live_server)
    page.goto(f"{live_server}/leads/1")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Fleet rollout for Atlas")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Edit lead")).to_have_count(0)
    expect(page).to_have_url(f"{live_server}/leads/1")  # a reload shows the lead, not the form
    expect(page.locator("#timeline")).to_contain_text("title changed from")
    expect(page.locator("#timeline")).to_contain_text("to Fleet rollout for Atlas")
    with app_db():
        assert db.session.get(Lead, 1).title == "Fleet rollout for Atlas"


def test_saving_an_edit_form_untouched_changes_nothing(page: Page, live_server, app_db):
    with app_db():
        deal = db.session.scalar(select(Deal).where(Deal.organization_id.is_not(None), Deal.contact_id.is_not(None),
                                                    Deal.owner_id.is_not(None)).order_by(Deal.id))
        before = (deal.owner_id, deal.team_id, deal.stage_id, deal.pipeline_id, deal.organization_id, deal.contact_id)
    login(page, live_server)
    page.goto(f"{live_server}/deals/{deal.id}/edit")
    expect(page.get_by_label("Owner")).to_have_value(f"user:{before[0]}")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Nothing changed.")
    with app_db():
        deal = db.session.get(Deal, deal.id)
        assert (deal.owner_id, deal.team_id, deal.stage_id, deal.pipeline_id, deal.organization_id, deal.contact_id) == before


def test_a_rep_cannot_open_another_reps_lead_by_url(page: Page, live_server, app_db):
    with app_db():
        other = db.session.scalar(select(Lead.id).where(Lead.owner_id == user_id("rep4@example.com")))
    login(page, live_server, "rep1@example.com")
    response = page.goto(f"{live_server}/leads/{other}")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_lists_and_records_fit_a_phone_screen(page: Page, live_server):
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    for path in ("/leads/", "/leads/1", "/deals/", "/deals/1", "/contacts/", "/organizations/1"):
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375 px"


def test_on_a_phone_the_filters_fold_behind_their_heading(page: Page, live_server):
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    page.goto(f"{live_server}/leads/")
    search = page.get_by_label("Search")
    expect(search).to_be_hidden()
    page.get_by_text("Filters", exact=True).click()
    search.fill("zzz-nothing")
    expect(page.locator("#record-rows")).to_contain_text("No leads match this filter")


def test_changing_a_filter_keeps_the_sort_order(page: Page, live_server, app_db):
    login(page, live_server)
    page.goto(f"{live_server}/leads/")
    page.get_by_role("link", name="Value").click()
    expect(page).to_have_url(re.compile(r"sort=value"))
    with app_db():
        ana = user_id("rep1@example.com")
    page.get_by_label("Owner").select_option(label="Ana Ruiz")
    expect(page).to_have_url(re.compile(rf"owner={ana}.*sort=value|sort=value.*owner={ana}"))
    expect(page.get_by_role("link", name="Value ▲")).to_be_visible()
