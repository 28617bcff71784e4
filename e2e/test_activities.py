"""A person plans an activity on a lead, marks it done, sees it move below the open ones and in the
history, then reopens it."""
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from crm.extensions import db
from crm.models import Activity, Lead
from crm.models.mixins import utcnow
from e2e.helpers import login


def test_plan_an_activity_mark_it_done_and_reopen_it(page: Page, live_server, app_db):
    with app_db():
        lead = db.session.scalar(select(Lead.id).where(Lead.deleted_at.is_(None), Lead.converted_at.is_(None))
                                 .order_by(Lead.id).limit(1))
        db.session.execute(delete(Activity).where(Activity.lead_id == lead))
        db.session.add(Activity(lead_id=lead, kind="call", subject="Call the buyer",
                                due_at=utcnow() + timedelta(days=3)))
        db.session.commit()
    login(page, live_server)
    page.goto(f"{live_server}/leads/{lead}")
    card = page.get_by_role("region", name="Activities")
    card.get_by_label("Kind").select_option("meeting")
    card.get_by_label("Subject").fill("Site visit")
    card.get_by_label("Due").fill("2020-03-02T10:00")
    card.get_by_role("button", name="Add activity").click()

    items = card.get_by_role("listitem")
    visit = items.filter(has_text="Site visit")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Site visit")  # open and overdue: first
    expect(visit).to_contain_text("overdue")

    visit.get_by_role("button", name="Mark “Site visit” done").click()
    expect(visit.get_by_role("button", name="Reopen “Site visit”")).to_be_visible()
    expect(items.last).to_contain_text("Site visit")  # done ones come after the open ones
    expect(visit).not_to_contain_text("overdue")
    expect(visit.locator(".state")).to_have_text("done")
    timeline = page.get_by_role("region", name="History")
    expect(timeline).to_contain_text("activity done: meeting: Site visit")
    with app_db():
        assert db.session.scalar(select(Activity.done).where(Activity.lead_id == lead,
                                                             Activity.subject == "Site visit")) is True

    visit.get_by_role("button", name="Reopen “Site visit”").click()
    expect(visit.get_by_role("button", name="Mark “Site visit” done")).to_be_visible()
    expect(items.first).to_contain_text("Site visit")
    expect(timeline).to_contain_text("activity reopened: meeting: Site visit")
    page.reload()  # the page without htmx says the same
    expect(timeline).to_contain_text("activity reopened: meeting: Site visit")
    expect(page.get_by_role("button", name="Mark “Site visit” done")).to_be_visible()


def test_without_javascript_marking_done_comes_back_to_the_lead(browser, live_server, app_db):
    with app_db():
        lead = db.session.scalar(select(Lead.id).where(Lead.deleted_at.is_(None), Lead.converted_at.is_(None))
                                 .order_by(Lead.id).limit(1))
        db.session.add(Activity(lead_id=lead, kind="task", subject="Send the brochure"))
        db.session.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    login(page, live_server)
    page.goto(f"{live_server}/leads/{lead}")
    page.get_by_role("button", name="Mark “Send the brochure” done").click()
    expect(page).to_have_url(f"{live_server}/leads/{lead}")
    expect(page.get_by_role("button", name="Reopen “Send the brochure”")).to_be_visible()
    expect(page.get_by_role("region", name="History")).to_contain_text("activity done: task: Send the brochure")
    context.close()
