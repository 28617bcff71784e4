"""The issue's journey, with no network: find Hamburg by name, see the coast and the city names, lasso
the pins there and reassign them — at 1280×800 with a mouse and at 375×812 by touch."""
import math
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import and_, select, update

from crm.extensions import db
from crm.models import Lead, Territory
from e2e.helpers import login, only_this_site, user_id

HAMBURG = (53.5507, 9.9930)


@pytest.fixture
def hamburg_leads(app_db) -> dict[int, str]:
    """Six leads in Hamburg owned by reps 1 and 2, and no other lead within a degree of it: {id: title}."""
    with app_db():
        owners = [user_id("rep1@example.com"), user_id("rep2@example.com")]
        team = db.session.scalar(select(Lead.team_id).where(Lead.owner_id == owners[0]).limit(1))
        near = and_(Lead.lat.between(HAMBURG[0] - 1, HAMBURG[0] + 1), Lead.lng.between(HAMBURG[1] - 1, HAMBURG[1] + 1))
        db.session.execute(update(Lead).where(near).values(lat=40.4, lng=-3.7))  # off to Madrid
        ids = db.session.scalars(select(Lead.id).where(Lead.lat.is_not(None)).order_by(Lead.id).limit(6)).all()
        for n, rid in enumerate(ids):
            db.session.execute(update(Lead).where(Lead.id == rid).values(
                lat=HAMBURG[0] + 0.01 * math.sin(n), lng=HAMBURG[1] + 0.015 * math.cos(n),
                owner_id=owners[n % 2], team_id=team, title=f"Hamburg lead {n + 1}", deleted_at=None))
        db.session.commit()
        return {rid: f"Hamburg lead {n + 1}" for n, rid in enumerate(ids)}


def go_to_hamburg(page: Page) -> None:
    box = page.get_by_role("combobox", name="Go to")
    box.fill("hambu")
    option = page.get_by_role("option", name="Hamburg, Germany")
    expect(option).to_be_visible(timeout=20_000)  # the city list loads once per server
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"center=53\.5\d*,9\.9\d*&zoom=10"))
    expect(page.locator(".place-label").get_by_text("Hamburg", exact=True)).to_be_visible(timeout=15_000)


def see_the_coast(page: Page) -> None:
    """Zoomed out to the region: Natural Earth land and sea both in view, and the region's cities named."""
    page.evaluate("void document.getElementById('map').leafletMap.setZoom(7, {animate: false})")
    expect(page.locator(".place-label").get_by_text("Bremen", exact=True)).to_be_visible(timeout=15_000)
    page.wait_for_function("""() => {
        const map = document.getElementById('map').leafletMap;
        const canvas = map.getPane('basemap').querySelector('canvas');
        if (!canvas || !canvas.width) return false;
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let land = 0, sea = 0;
        for (let i = 3; i < px.length; i += 400) { if (px[i] > 0) land++; else sea++; }
        return land > 50 && sea > 50;
    }""")
    page.evaluate("void document.getElementById('map').leafletMap.setView([53.5507, 9.993], 11, {animate: false})")


def screen_point(page: Page, lat: float, lng: float) -> tuple[float, float]:
    return tuple(page.evaluate("([lat, lng]) => { const m = document.getElementById('map').leafletMap;"
                               " const p = m.latLngToContainerPoint([lat, lng]);"
                               " const r = m.getContainer().getBoundingClientRect();"
                               " return [r.left + p.x, r.top + p.y]; }", [lat, lng]))


def loop(center: tuple[float, float], radius: float) -> list[tuple[float, float]]:
    cx, cy = center
    return [(cx + radius * math.cos(2 * math.pi * i / 32), cy + radius * math.sin(2 * math.pi * i / 32))
            for i in range(33)]


def reassign_all_to(page: Page, name: str) -> None:
    drawer = page.locator("#bulk-drawer")
    expect(drawer).to_contain_text("6 leads")
    drawer.get_by_text("Reassign", exact=True).click()
    drawer.get_by_label("New owner").select_option(label=name)
    expect(drawer.locator(".statement strong").first).to_have_text(name)
    drawer.get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    drawer.get_by_role("button", name="Yes, reassign").click()
    expect(page.get_by_role("link", name="See the changed records")).to_be_visible()


def assert_owned_by(app_db, ids, email: str) -> None:
    with app_db():
        owner = user_id(email)
        owners = set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids))))
    assert owners == {owner}


def test_find_hamburg_lasso_its_pins_and_reassign_them_at_1280(page: Page, live_server, app_db, hamburg_leads):
    elsewhere = only_this_site(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/map")
    map_box = page.locator("#map").bounding_box()
    assert map_box["y"] + map_box["height"] <= 800 and map_box["height"] >= 550  # all of it, no scrolling
    assert page.evaluate("document.documentElement.scrollHeight") <= 800

    go_to_hamburg(page)
    see_the_coast(page)
    expect(page.locator("#map[data-mode=pins]")).to_have_count(1)
    page.get_by_role("button", name="Lasso").click()
    points = loop(screen_point(page, *HAMBURG), 90)
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y)
    page.mouse.up()
    expect(page.locator("#map-selection h2")).to_have_text("Lasso: 6 leads")
    before = page.locator("#map").bounding_box()["width"]
    reassign_all_to(page, "Sofia Rossi")
    assert page.locator("#map").bounding_box()["width"] < before - 300  # the drawer narrowed the map
    assert_owned_by(app_db, hamburg_leads, "rep3@example.com")
    assert elsewhere == []


def test_find_hamburg_lasso_its_pins_by_touch_and_reassign_them_on_a_phone(
        browser, live_server, app_db, hamburg_leads):
    context = browser.new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True)
    page = context.new_page()
    elsewhere = only_this_site(page, live_server)
    login(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/map")
    map_box = page.locator("#map").bounding_box()
    assert map_box["width"] >= 370 and map_box["height"] >= 700  # the map is the screen

    go_to_hamburg(page)
    see_the_coast(page)
    expect(page.locator("#map[data-mode=pins]")).to_have_count(1)
    lasso = page.get_by_role("button", name="Lasso")
    assert lasso.bounding_box()["height"] >= 44
    lasso.tap()
    touch = context.new_cdp_session(page)
    points = loop(screen_point(page, *HAMBURG), 80)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
    for x, y in points[1:]:
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(page.locator("#map-selection h2")).to_have_text("Lasso: 6 leads")
    sheet = page.locator("#bulk-drawer")
    expect(sheet).to_be_visible()
    sheet_box = sheet.bounding_box()
    assert sheet_box["y"] > 200 and sheet_box["width"] >= 370  # a bottom sheet, the map above it
    reassign_all_to(page, "Sofia Rossi")
    assert_owned_by(app_db, hamburg_leads, "rep3@example.com")
    assert elsewhere == []
    context.close()


def test_a_lasso_past_the_map_edge_is_clipped_an_empty_one_says_so_and_escape_cancels(
        page: Page, live_server, hamburg_leads):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/map?center=54.0,8.8&zoom=8")  # Hamburg right of the centre
    expect(page.locator("#map[data-mode]")).to_have_count(1, timeout=15_000)  # the first pins (a busy machine)
    lasso = page.get_by_role("button", name="Lasso")

    lasso.click()  # a loop over the empty North Sea
    sea = loop(screen_point(page, 54.4, 7.9), 40)
    page.mouse.move(*sea[0])
    page.mouse.down()
    for x, y in sea[1:]:
        page.mouse.move(x, y)
    page.mouse.up()
    expect(page.locator("#map-selection")).to_contain_text("No leads inside the lasso")
    expect(lasso).to_have_attribute("aria-pressed", "false")

    lasso.click()  # the tool is usable again; Escape drops a loop half drawn
    page.mouse.move(*sea[0])
    page.mouse.down()
    page.mouse.move(*sea[5])
    page.keyboard.press("Escape")
    page.mouse.up()
    expect(page.get_by_role("status").filter(has_text="Lasso cancelled")).to_be_visible()
    expect(lasso).to_have_attribute("aria-pressed", "false")

    lasso.click()  # a loop that runs far past the map's right and bottom edges follows them
    box = page.locator("#map").bounding_box()
    hx, hy = screen_point(page, *HAMBURG)
    assert hx < box["x"] + box["width"] and hy < box["y"] + box["height"]
    corners = [(hx - 60, hy - 60), (hx + 900, hy - 60), (hx + 900, hy + 900), (hx - 60, hy + 900), (hx - 60, hy - 60)]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for x, y in corners[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()
    expect(page.locator("#map-selection h2")).to_have_text("Lasso: 6 leads")


def test_an_admin_draws_a_territory_by_touch_on_a_phone(browser, live_server, app_db, hamburg_leads):
    context = browser.new_context(viewport={"width": 375, "height": 812}, has_touch=True, is_mobile=True)
    page = context.new_page()
    login(page, live_server)
    page.goto(f"{live_server}/map?center={HAMBURG[0]},{HAMBURG[1]}&zoom=11")
    expect(page.locator("#map[data-mode=pins]")).to_have_count(1, timeout=15_000)
    draw = page.get_by_role("button", name="Draw territory")
    assert draw.bounding_box()["height"] >= 44
    draw.tap()
    cx, cy = screen_point(page, *HAMBURG)
    for dx, dy in ((-70, -70), (70, -70), (70, 70), (-70, 70)):
        page.touchscreen.tap(cx + dx, cy + dy)
    page.get_by_role("button", name="Finish shape").tap()
    page.get_by_label("Territory name").fill("Hamburg centre")
    page.get_by_role("button", name="Save territory").tap()
    expect(page.locator(".messages")).to_contain_text("Territory “Hamburg centre” saved")
    with app_db():
        inside = set(db.session.scalars(select(Lead.id).join(Territory, Territory.id == Lead.territory_id)
                                        .where(Territory.name == "Hamburg centre")))
    assert inside == set(hamburg_leads)
    context.close()
