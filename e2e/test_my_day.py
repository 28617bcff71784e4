"""A rep opens My day on a phone (375 px): marks an overdue call done, logs a call on a top lead and
plans the next step on another, each in one tap, without leaving the page."""
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import delete, select, update

from crm.extensions import db
from crm.models import Activity, Lead, LeadStatus, ScoringRule
from crm.models.mixins import utcnow
from crm.services import scoring
from e2e.helpers import login, user_id


def test_a_rep_works_through_my_day_on_a_phone(page: Page, live_server, app_db):
    with app_db():
        ana = user_id("rep1@example.com")
        leads = db.session.scalars(select(Lead).join(LeadStatus).where(
            Lead.owner_id == ana, Lead.deleted_at.is_(None), Lead.converted_at.is_(None),
            LeadStatus.kind == "open").order_by(Lead.id).limit(2)).all()
        hot, warm = (lead.id for lead in leads)
        hot_title, warm_title = (lead.title for lead in leads)
        db.session.execute(delete(Activity).where(Activity.owner_id == ana))
        db.session.execute(delete(Activity).where(Activity.lead_id.in_([hot, warm])))
        db.session.execute(update(Lead).where(Lead.id == hot).values(source="Referral A"))
        db.session.execute(update(Lead).where(Lead.id == warm).values(source="Referral B"))
        db.session.add_all([ScoringRule(kind="source", value="Referral A", points=95),
                            ScoringRule(kind="source", value="Referral B", points=90)])
        db.session.flush()
        scoring.recompute_all(db.session)
        db.session.add(Activity(kind="call", subject="Call back Nora", owner_id=ana, lead_id=warm,
                                due_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server, "rep1@example.com")
    page.goto(f"{live_server}/today/")
    due = page.get_by_role("region", name="Due today and overdue")
    expect(due).to_contain_text("Call back Nora")
    expect(due).to_contain_text("overdue")
    top = page.get_by_role("region", name="Top leads with nothing planned")
    expect(top.get_by_role("listitem").first).to_contain_text(hot_title)  # best score first
    expect(top).not_to_contain_text(warm_title)  # it has a call planned
    page.screenshot(path="/tmp/lead-shots/today-375.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    due.get_by_role("button", name="Done “Call back Nora”").click()
    expect(page.get_by_role("region", name="Due today and overdue")).not_to_contain_text("Call back Nora")
    top = page.get_by_role("region", name="Top leads with nothing planned")
    expect(top).to_contain_text(warm_title)  # nothing planned any more

    top.get_by_role("button", name=f"Call logged {hot_title}").click()
    expect(page.locator("#messages")).to_contain_text(f"Call logged on {hot_title}")
    top = page.get_by_role("region", name="Top leads with nothing planned")
    item = top.get_by_role("listitem").filter(has_text=warm_title)
    item.locator("summary").click()
    item.get_by_label("Subject").fill("Send the offer")
    item.get_by_label("Due").fill((utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    item.get_by_role("button", name="Plan").click()
    expect(page.get_by_role("region", name="Top leads with nothing planned")).not_to_contain_text(warm_title)
    with app_db():
        done = db.session.scalars(select(Activity.subject).where(Activity.lead_id == hot, Activity.done)).all()
        planned = db.session.scalars(select(Activity.subject).where(Activity.lead_id == warm, ~Activity.done)).all()
        assert done == ["Call"] and planned == ["Send the offer"]
