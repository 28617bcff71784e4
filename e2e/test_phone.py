"""On a phone (375 px): the ☰ menu is readable, every control is a 44 × 44 px tap target, and a rep
marks an activity done with a thumb."""
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.models import Activity, Lead, User
from e2e.helpers import login

SMALL_CONTROLS = """() => Array.from(document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, summary, textarea'))
  .filter(e => e.offsetParent !== null && !e.closest('.skip-link') && !e.matches('.skip-link'))
  .map(e => { const r = e.getBoundingClientRect();
              return {what: e.tagName + ' ' + (e.getAttribute('aria-label') || e.textContent || e.name || e.type).trim().slice(0, 40),
                      width: Math.round(r.width), height: Math.round(r.height)}; })
  .filter(c => c.width < 44 || c.height < 44)"""


def test_every_control_is_a_44_px_tap_target_and_the_menu_is_readable(page: Page, live_server, app_db):
    with app_db():
        ana = db.session.scalar(select(User).where(User.email == "rep1@example.com"))
        lead = db.session.scalar(select(Lead).where(Lead.owner_id == ana.id, Lead.converted_at.is_(None))
                                 .order_by(Lead.id))
        db.session.add(Activity(lead_id=lead.id, subject="Call about the fleet", kind="call", owner_id=ana.id))
        db.session.commit()
        lead_id = lead.id
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, live_server, "rep1@example.com")
    for path in ("/leads/", f"/leads/{lead_id}", "/pipeline", "/deals/", "/contacts/", "/activity", "/notifications"):
        page.goto(f"{live_server}{path}")
        small = page.evaluate(SMALL_CONTROLS)
        assert small == [], (path, small[:12])
    page.goto(f"{live_server}/leads/{lead_id}")
    page.locator(".menu-toggle summary").click()
    nav = page.locator(".menu-toggle nav")
    link = nav.get_by_role("link", name="Deals")
    expect(link).to_be_visible()
    colour, background = link.evaluate("a => [getComputedStyle(a).color, getComputedStyle(a.closest('nav')).backgroundColor]")
    assert colour != background and colour != "rgb(255, 255, 255)"
    page.locator(".menu-toggle summary").click()
    done = page.get_by_role("region", name="Activities").get_by_role("button", name="Mark “Call about the fleet” done")
    box = done.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    done.click()
    expect(page.get_by_role("region", name="Activities").get_by_role("button", name="Reopen “Call about the fleet”")).to_be_visible()
    with app_db():
        assert db.session.scalar(select(Activity.done).where(Activity.subject == "Call about the fleet"))
