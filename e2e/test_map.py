"""A manager lassoes a city's pins on the map and reassigns them; an admin draws, renames and redraws territories."""
import math
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from crm.extensions import db
from crm.models import Lead, Territory
from e2e.helpers import login, user_id

REYKJAVIK = (64.13, -21.9)  # no other demo pins nearby (Iceland is not in the demo countries)


@pytest.fixture
def city_cluster(app_db) -> dict[int, str]:
    """Six leads in and around Reykjavik owned by North reps: {id: title}."""
    with app_db():
        owners = [user_id(f"rep{n}@example.com") for n in (1, 2, 3)]
        team = db.session.scalar(select(Lead.team_id).where(Lead.owner_id == owners[0]).limit(1))
        ids = db.session.scalars(select(Lead.id).where(Lead.lat.is_not(None)).order_by(Lead.id).limit(6)).all()
        for n, rid in enumerate(ids):
            db.session.execute(update(Lead).where(Lead.id == rid).values(
                lat=REYKJAVIK[0] + 0.02 * math.sin(n), lng=REYKJAVIK[1] + 0.03 * math.cos(n),
                owner_id=owners[n % 3], team_id=team, title=f"Reykjavik lead {n + 1}", deleted_at=None))
        db.session.commit()
        return {rid: f"Reykjavik lead {n + 1}" for n, rid in enumerate(ids)}


def open_map(page: Page, live_server: str, path: str = "/map") -> None:
    page.goto(f"{live_server}{path}")
    expect(page.locator("#map[data-mode]")).to_have_count(1)  # the first pins have loaded


def screen_point(page: Page, lat: float, lng: float) -> tuple[float, float]:
    """Where a coordinate is on the page (read from the map, so the mouse can aim at it)."""
    point = page.evaluate("([lat, lng]) => { const m = document.getElementById('map').leafletMap;"
                          " const p = m.latLngToContainerPoint([lat, lng]);"
                          " const r = m.getContainer().getBoundingClientRect();"
                          " return [r.left + p.x, r.top + p.y]; }", [lat, lng])
    return point[0], point[1]


def draw_lasso_around(page: Page, center: tuple[float, float], radius: float = 40) -> None:
    box = page.locator("#map").bounding_box()
    page.get_by_role("button", name="Lasso").click()
    expect(page.get_by_role("status").filter(has_text="draw around the pins")).to_be_visible()
    assert page.locator("#map").bounding_box() == box  # the hint does not push the map (and the pins) down
    cx, cy = center
    page.mouse.move(cx + radius, cy)
    page.mouse.down()
    for step in range(1, 33):
        angle = 2 * math.pi * step / 32
        page.mouse.move(cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    page.mouse.up()


def draw_territory_around(page: Page, center: tuple[float, float], name: str) -> None:
    """Draw a square around a place with "Draw territory" and name it (not yet saved)."""
    cx, cy = screen_point(page, *center)
    page.get_by_role("button", name="Draw territory").click()
    for dx, dy in ((-45, -45), (45, -45), (45, 45), (-45, 45)):
        page.mouse.click(cx + dx, cy + dy)
    page.get_by_role("button", name="Finish shape").click()
    page.get_by_label("Territory name").fill(name)


def test_lasso_a_city_then_reassign_all_but_one_pin(page: Page, live_server, app_db, city_cluster):
    login(page, live_server, "manager@example.com")
    open_map(page, live_server)
    draw_lasso_around(page, screen_point(page, *REYKJAVIK))

    expect(page.locator("#map-selection h2")).to_have_text("Lasso: 6 leads")
    drawer = page.locator("#bulk-drawer")
    expect(drawer).to_contain_text("6 leads")
    expect(drawer.get_by_role("heading", name="By current owner")).to_be_visible()

    kept_id, kept_title = next(iter(city_cluster.items()))
    page.get_by_label(re.compile(rf"{kept_title}\b")).uncheck()
    expect(page.get_by_role("button", name="Mass change (5 records)")).to_be_visible()
    expect(drawer.locator("#bulk-total")).to_contain_text("5 leads")

    expect(drawer).to_contain_text("not only the pins you see")
    drawer.get_by_text("Reassign", exact=True).click()
    drawer.get_by_label("New owner").select_option(label="Sofia Rossi")
    expect(drawer.locator(".statement strong").first).to_have_text("Sofia Rossi")  # the drawer re-rendered
    drawer.get_by_label("Type REASSIGN to confirm").fill("REASSIGN")
    drawer.get_by_role("button", name="Yes, reassign").click()
    expect(page.get_by_role("link", name="See the changed records")).to_be_visible()
    picks = page.locator("#lasso-picks")  # the pick list shows the new owners, the unticked pin stays unticked
    changed_title = next(t for i, t in city_cluster.items() if i != kept_id)
    expect(picks.locator("li", has_text=changed_title)).to_contain_text("Sofia Rossi")
    expect(page.get_by_label(re.compile(rf"{kept_title}\b"))).not_to_be_checked()
    expect(page.get_by_role("link", name="See the changed records")).to_be_visible()

    sofia = None
    with app_db():
        sofia = user_id("rep3@example.com")
        owners = dict(db.session.execute(select(Lead.id, Lead.owner_id).where(Lead.id.in_(city_cluster))).all())
    assert all(owners[i] == sofia for i in city_cluster if i != kept_id)

    page.goto(f"{live_server}/leads/?owner={sofia}&q=Reykjavik")
    rows = page.locator("#record-rows tbody tr")
    expected = [t for i, t in city_cluster.items() if i != kept_id or owners[kept_id] == sofia]
    expect(rows).to_have_count(len(expected))
    if owners[kept_id] != sofia:
        expect(page.locator("#record-rows")).not_to_contain_text(kept_title)


def test_admin_draws_a_territory_and_filters_by_it(page: Page, live_server, app_db, city_cluster):
    login(page, live_server)
    open_map(page, live_server)
    draw_territory_around(page, REYKJAVIK, "Reykjavik area")
    page.get_by_label("Territory owner").select_option(label="Lars Berg")
    page.get_by_role("button", name="Save territory").click()
    expect(page.locator(".messages")).to_contain_text("Territory “Reykjavik area” saved")
    expect(page.get_by_label("Show Reykjavik area")).to_be_checked()

    page.locator("#filters").get_by_label("Territory").select_option(label="Reykjavik area")
    expect(page.locator("#record-rows .count")).to_contain_text("6 leads on the map")
    with app_db():
        territory = db.session.scalar(select(Territory).where(Territory.name == "Reykjavik area"))
        inside = set(db.session.scalars(select(Lead.id).where(Lead.territory_id == territory.id)))
    assert inside == set(city_cluster)
    page.goto(f"{live_server}/leads/")
    page.locator("#filters").get_by_label("Territory").select_option(label="Reykjavik area")
    expect(page.locator("#record-rows .count")).to_contain_text("6 leads")


def test_map_fills_a_phone_screen_and_popups_open(page: Page, live_server, city_cluster):
    page.set_viewport_size({"width": 375, "height": 740})
    login(page, live_server)
    open_map(page, live_server)
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    assert box["width"] >= 340 and box["height"] >= 600
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    pin = (REYKJAVIK[0], REYKJAVIK[1] + 0.03)  # "Reykjavik lead 1"
    with page.expect_response(re.compile(r"/points\?")):
        page.evaluate("([lat, lng]) => void document.getElementById('map').leafletMap.setView([lat, lng], 13, "
                      "{animate: false})", list(pin))
    expect(page.locator("#map")).to_have_attribute("data-mode", "pins")
    expect(page.locator("#map")).not_to_have_attribute("aria-busy", "true")  # the pins are drawn
    cx, cy = screen_point(page, *pin)
    page.mouse.click(cx, cy)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Reykjavik lead 1")
    expect(popup.get_by_role("link", name="Open lead")).to_be_visible()


def test_select_in_view_picks_the_visible_pins_without_a_mouse_drawing(page: Page, live_server, city_cluster):
    login(page, live_server, "manager@example.com")
    open_map(page, live_server)
    with page.expect_response(re.compile(r"/points\?")):
        page.evaluate("([lat, lng]) => void document.getElementById('map').leafletMap.setView([lat, lng], 10)", list(REYKJAVIK))
    page.get_by_role("button", name="Select in view").click()
    expect(page.locator("#map-selection h2")).to_have_text("Lasso: 6 leads")
    expect(page.locator("#bulk-drawer")).to_contain_text("6 leads")


def test_admin_renames_a_territory_from_the_map(page: Page, live_server):
    login(page, live_server)
    open_map(page, live_server)
    page.get_by_role("link", name="Edit Iberia").click()
    expect(page.get_by_role("heading", name="Edit territory Iberia")).to_be_visible()
    page.get_by_label("Territory name").fill("Iberian Peninsula")
    page.get_by_role("button", name="Save territory").click()

    expect(page.locator(".messages")).to_contain_text("Territory “Iberian Peninsula” saved")
    sidebar = page.get_by_role("region", name="Territories")
    expect(sidebar.get_by_label("Show Iberian Peninsula")).to_be_checked()
    expect(sidebar.get_by_role("link", name="Edit Iberian Peninsula")).to_be_visible()
    expect(sidebar.get_by_label("Show Iberia", exact=True)).to_have_count(0)
    expect(sidebar).to_contain_text("Hugo Martin")  # the owner is kept
    territory_filter = page.locator("#filters").get_by_label("Territory")
    expect(territory_filter.get_by_role("option", name="Iberian Peninsula")).to_have_count(1)
    expect(territory_filter.get_by_role("option", name="Iberia", exact=True)).to_have_count(0)
    territory_filter.select_option(label="Iberian Peninsula")
    expect(page.locator("#record-rows .count")).to_contain_text("on the map")


def test_admin_redraws_a_territory_around_other_pins(page: Page, live_server, app_db, city_cluster):
    login(page, live_server)
    open_map(page, live_server)
    page.get_by_role("link", name="Edit Benelux").click()
    outline_map = page.locator("#territory-map")
    expect(outline_map).to_have_class(re.compile("leaflet-container"))
    page.evaluate("([lat, lng]) => void document.getElementById('territory-map').leafletMap.setView([lat, lng], 10,"
                  " {animate: false})", list(REYKJAVIK))
    page.get_by_role("button", name="Redraw").click()
    center = page.evaluate("([lat, lng]) => { const m = document.getElementById('territory-map').leafletMap;"
                           " const p = m.latLngToContainerPoint([lat, lng]);"
                           " const r = m.getContainer().getBoundingClientRect();"
                           " return [r.left + p.x, r.top + p.y]; }", list(REYKJAVIK))
    for dx, dy in ((-60, -60), (60, -60), (60, 60), (-60, 60)):
        page.mouse.click(center[0] + dx, center[1] + dy)
    page.get_by_role("button", name="Finish shape").click()
    expect(page.locator("#map-hint")).to_have_text("A new outline is drawn; save to keep it.")
    page.get_by_role("button", name="Save territory").click()

    expect(page.locator(".messages")).to_contain_text("Territory “Benelux” saved")
    with app_db():
        benelux = db.session.scalar(select(Territory.id).where(Territory.name == "Benelux"))
        inside = set(db.session.scalars(select(Lead.id).where(Lead.territory_id == benelux)))
    assert inside == set(city_cluster)


def test_admin_deletes_a_territory_after_confirming(page: Page, live_server, app_db):
    login(page, live_server)
    open_map(page, live_server)
    sidebar = page.get_by_role("region", name="Territories")
    sidebar.get_by_role("link", name="Delete territory Benelux").click()
    dialog = page.get_by_role("dialog", name="Delete territory “Benelux”?")
    expect(dialog).to_contain_text("records stay, and go to the territory around them, if any.")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(sidebar.get_by_label("Show Benelux")).to_be_visible()

    sidebar.get_by_role("link", name="Delete territory Benelux").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete territory").click()
    expect(page.locator(".messages")).to_contain_text("Territory “Benelux” deleted")
    expect(sidebar.get_by_label("Show Benelux")).to_have_count(0)
    with app_db():
        assert db.session.scalar(select(Territory).where(Territory.name == "Benelux")) is None


def test_switches_follow_a_filter_changed_on_the_map(page: Page, live_server, app_db):
    with app_db():
        lars = user_id("rep1@example.com")
    login(page, live_server)
    open_map(page, live_server)
    page.get_by_label("Show Iberia").uncheck()
    page.locator("#filters").get_by_label("Owner").select_option(str(lars))
    expect(page).to_have_url(re.compile(rf"owner={lars}"))
    edit = page.get_by_role("link", name="Edit Iberia")
    expect(edit).to_have_attribute("href", re.compile(rf"next=/map\?owner%3D{lars}$"))
    expect(page.get_by_label("Show Iberia")).not_to_be_checked()  # the show/hide ticks survive the refresh
    views = page.get_by_role("navigation", name="Views of this filter")
    expect(views.get_by_role("link", name="List")).to_have_attribute("href", f"/leads/?owner={lars}")
    expect(page.locator("#territory-next")).to_have_attribute("value", f"/map?owner={lars}")

    page.get_by_role("navigation", name="Record type").get_by_role("link", name="Deals").click()
    expect(page).to_have_url(re.compile(rf"/map/deals\?owner={lars}(&center=[-\d.]+,[-\d.]+&zoom=\d+)?$"))
    expect(page.locator("#filters").get_by_label("Owner")).to_have_value(str(lars))
    views.get_by_role("link", name="Kanban").click()
    expect(page).to_have_url(re.compile(rf"/pipeline\?owner={lars}$"))
    page.go_back()
    page.get_by_role("navigation", name="Views of this filter").get_by_role("link", name="List").click()
    expect(page).to_have_url(re.compile(rf"/deals/\?owner={lars}$"))
    expect(page.locator("#filters").get_by_label("Owner")).to_have_value(str(lars))


def test_a_refused_territory_keeps_its_outline_until_it_is_saved(page: Page, live_server, app_db, city_cluster):
    login(page, live_server)
    open_map(page, live_server)
    draw_territory_around(page, REYKJAVIK, "Iberia")
    page.get_by_role("button", name="Save territory").click()
    expect(page.get_by_role("alert")).to_contain_text("already a territory called “Iberia”")
    expect(page.get_by_label("Territory name")).to_have_value("Iberia")
    page.get_by_label("Territory name").fill("Reykjavik area")
    page.get_by_role("button", name="Save territory").click()
    expect(page.locator(".messages")).to_contain_text("Territory “Reykjavik area” saved: 6 records are in it")


HOSTILE = "T\"'><img src=x onerror=alert(1)>"


def test_a_hostile_title_stays_text_in_the_pick_list_tooltip_and_popup(page: Page, live_server, app_db, city_cluster):
    """A rep's lead titled like markup shows as those characters wherever the map shows it; no script runs."""
    hostile_id = next(iter(city_cluster))
    with app_db():
        db.session.execute(update(Lead).where(Lead.id == hostile_id).values(title=HOSTILE))
        db.session.commit()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, "manager@example.com")
    open_map(page, live_server)
    with page.expect_response(re.compile(r"/points\?")):
        page.evaluate("([lat, lng]) => void document.getElementById('map').leafletMap.setView([lat, lng], 13)",
                      list(REYKJAVIK))
    with app_db():
        lat, lng = db.session.execute(select(Lead.lat, Lead.lng).where(Lead.id == hostile_id)).one()
    page.wait_for_function("id => { let drawn = false; document.getElementById('map').leafletMap"
                           ".eachLayer(l => { drawn = drawn || l.recordId === id; }); return drawn; }", arg=hostile_id)
    page.mouse.click(*screen_point(page, lat, lng))
    popup = page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name=HOSTILE)).to_be_visible()  # the popup
    expect(popup.get_by_role("link", name="Open lead")).to_have_attribute("href", f"/leads/{hostile_id}")

    page.get_by_role("button", name="Select in view").click()
    expect(page.locator("#lasso-picks")).to_contain_text(HOSTILE)  # the pick list
    page.mouse.move(*screen_point(page, lat, lng))
    expect(page.locator(".leaflet-tooltip")).to_have_text(re.compile(re.escape(HOSTILE)))  # the tooltip
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
