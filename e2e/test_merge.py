"""A person finds a duplicate lead from its page, merges it in the side-by-side panel, and undoes it."""
import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.models import Lead, Note
from crm.models.mixins import utcnow
from e2e.helpers import login, user_id


def seed_duplicates() -> tuple[int, int]:
    """Two leads for the same person: the older one was edited recently (so its values are the defaults)."""
    owner = user_id("rep1@example.com")
    now = utcnow()
    first = Lead(title="Harbor Foods – fleet", person_name="Greta Lindqvist", company_name="Harbor Foods",
                 email="greta.lindqvist@harborfoods.se", phone="+46 31 123 45 67", owner_id=owner, team_id=1,
                 created_at=now - timedelta(days=30), updated_at=now - timedelta(days=1))
    second = Lead(title="Harbor Foods – 12 vans", person_name="Greta Lindqvist", company_name="Harbor Foods AB",
                  email="Greta.Lindqvist@HarborFoods.se", phone="031-123 45 67", country="Sweden",
                  owner_id=owner, team_id=1, created_at=now - timedelta(days=10), updated_at=now - timedelta(days=10))
    db.session.add_all([first, second])
    db.session.flush()
    db.session.add(Note(body="Greta wants the vans before spring.", lead_id=second.id))
    db.session.commit()
    return first.id, second.id


def test_merge_a_similar_lead_then_undo_it_after_editing_the_result(page: Page, live_server, app_db):
    with app_db():
        first, second = seed_duplicates()
    login(page, live_server)
    page.goto(f"{live_server}/leads/{first}")
    page.get_by_role("link", name=re.compile(r"Similar leads \(\d+\)")).click()
    expect(page.get_by_role("row", name=re.compile(f"#{second}"))).to_contain_text("same email")
    page.get_by_role("button", name="Merge selected").click()

    # The oldest lead is kept and the defaults are its values; keeping the other moves them there and back.
    expect(page.get_by_role("heading", name="Merge 2 leads")).to_be_visible()
    expect(page.get_by_label(f"Keep #{first} as the surviving record")).to_be_checked()
    expect(page.get_by_label(f"Keep phone from #{first}")).to_be_checked()
    page.get_by_label(f"Keep #{second} as the surviving record").check()
    expect(page.get_by_label(f"Keep phone from #{second}")).to_be_checked()
    page.get_by_label(f"Keep #{first} as the surviving record").check()
    expect(page.get_by_label(f"Keep phone from #{first}")).to_be_checked()
    page.get_by_label(f"Keep title from #{second}").check()
    page.get_by_role("button", name="Merge", exact=True).click()

    expect(page).to_have_url(f"{live_server}/leads/{first}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Foods – 12 vans")
    expect(page.get_by_role("region", name="Notes")).to_contain_text("Greta wants the vans before spring.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"kept this lead, merged in #{second}")
    expect(timeline).to_contain_text(f"merged from #{second}: Phone 031-123 45 67")
    with app_db():
        assert db.session.get(Lead, second).merged_into_id == first

    # Someone edits the result; Undo merge then asks which of those changes to keep.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Harbor Foods – 14 vans")
    page.get_by_role("button", name="Save").click()
    expect(timeline).to_contain_text("to Harbor Foods – 14 vans")
    page.get_by_role("button", name="Undo merge").click()
    expect(page.get_by_role("heading", name="Undo merge")).to_be_visible()
    changes = page.get_by_role("row", name=re.compile("^Title"))
    expect(changes).to_contain_text("Harbor Foods – fleet")
    expect(changes).to_contain_text("Harbor Foods – 14 vans")
    expect(page.get_by_label("Title: keep the current value")).to_be_checked()
    page.get_by_label("Title: put back the value from before the merge").check()
    page.get_by_role("button", name="Undo merge").click()

    expect(page).to_have_url(f"{live_server}/leads/{first}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbor Foods – fleet")
    expect(page.get_by_role("region", name="Notes")).not_to_contain_text("Greta wants the vans")
    with app_db():
        assert db.session.get(Lead, second).deleted_at is None


def test_create_form_warns_about_a_possible_duplicate(page: Page, live_server, app_db):
    with app_db():
        first, _ = seed_duplicates()
    login(page, live_server)
    page.goto(f"{live_server}/leads/new")
    page.get_by_label("Email").fill("greta.lindqvist@harborfoods.se")
    page.get_by_label("Email").blur()
    notice = page.locator("#duplicate-notice")
    expect(notice).to_contain_text("Possible duplicate of")
    expect(notice.get_by_role("link", name=re.compile(f"#{first}"))).to_be_visible()


def test_merge_panel_stacks_read_only_on_a_phone(page: Page, live_server, app_db):
    with app_db():
        first, second = seed_duplicates()
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server)
    page.goto(f"{live_server}/leads/merge?ids={first},{second}")
    expect(page.get_by_text("Merging needs a wider screen")).to_be_visible()
    expect(page.get_by_role("button", name="Merge", exact=True)).to_be_hidden()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
