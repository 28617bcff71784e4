"""An admin adds scoring rules; a rep sees the lead's score and why, sorts by score and filters on it,
and marks an activity done to watch the score rise."""
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select, update

from crm.extensions import db
from crm.models import Activity, Lead
from e2e.helpers import login


def test_admin_scores_leads_and_the_lead_says_why(page: Page, live_server, app_db):
    with app_db():
        lead = db.session.scalar(select(Lead).where(Lead.deleted_at.is_(None), Lead.converted_at.is_(None))
                                 .order_by(Lead.id).limit(1))
        lead_id, title = lead.id, lead.title
        db.session.execute(update(Lead).values(source="Fair"))
        db.session.execute(update(Lead).where(Lead.id == lead_id).values(source="Web form"))
        db.session.execute(delete(Activity).where(Activity.lead_id == lead_id))
        db.session.commit()
    login(page, live_server)
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Lead scoring").click()
    rules = page.locator("#scoring-rules")
    for condition, value, points, words in (("Source is", "Web form", "25", "source Web form"),
                                            ("Activity done in the last N days", "7", "20",
                                             "activity in the last 7 days")):
        page.get_by_label("Condition", exact=True).select_option(label=condition)
        page.get_by_label("Value", exact=True).fill(value)
        page.get_by_label("Points", exact=True).fill(points)
        page.get_by_role("button", name="Add rule").click()
        expect(rules).to_contain_text(words)
    page.get_by_label("Condition", exact=True).select_option(label="Activity done in the last N days")
    page.get_by_label("Value", exact=True).fill("soon")
    page.get_by_label("Points", exact=True).fill("5")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("whole number")

    page.goto(f"{live_server}/leads/?sort=-score")
    first_row = page.locator("#record-rows tbody tr").first
    expect(first_row).to_contain_text(title)
    expect(first_row.locator(".badge.score")).to_have_text("25")
    page.get_by_label("Score at least").fill("25")
    page.get_by_label("Score at least").press("Enter")
    expect(page.locator("#record-rows tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server}/leads/?score_min=25&sort=-score")

    page.goto(f"{live_server}/leads/{lead_id}")
    score = page.get_by_role("region", name="Score")
    expect(score.locator(".badge.score")).to_have_text("25")
    expect(score).to_contain_text("+25 source Web form")
    card = page.get_by_role("region", name="Activities")
    card.get_by_label("Subject").fill("Intro call")
    card.get_by_role("button", name="Add activity").click()
    card.get_by_role("button", name="Mark “Intro call” done").click()
    expect(score.locator(".badge.score")).to_have_text("45")
    expect(score).to_contain_text("+20 activity in the last 7 days")
    page.screenshot(path="/tmp/lead-shots/score-1280.png", full_page=True)
    with app_db():
        assert db.session.get(Lead, lead_id).score == 45
