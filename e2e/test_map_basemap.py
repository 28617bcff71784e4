"""The default map is drawn offline: Natural Earth land and borders, city names, nothing from elsewhere."""
from playwright.sync_api import Page, expect

from e2e.helpers import login, only_this_site

HAMBURG = (53.55, 9.99)
NORTH_SEA = (54.6, 7.0)


def pixel_alpha(page: Page, lat: float, lng: float) -> int:
    """How opaque the base map's canvas is at a coordinate: land is painted, the sea is not."""
    return page.evaluate("""([lat, lng]) => {
        const map = document.getElementById('map').leafletMap;
        const canvas = map.getPane('basemap').querySelector('canvas');
        const p = map.latLngToContainerPoint([lat, lng]);
        const c = canvas.getBoundingClientRect(), m = map.getContainer().getBoundingClientRect();
        const scale = canvas.width / c.width;
        const x = Math.round((m.left + p.x - c.left) * scale), y = Math.round((m.top + p.y - c.top) * scale);
        return canvas.getContext('2d').getImageData(x, y, 1, 1).data[3];
    }""", [lat, lng])


def test_the_default_map_shows_land_sea_and_city_names_without_leaving_the_site(page: Page, live_server):
    elsewhere = only_this_site(page, live_server)
    login(page, live_server)
    page.goto(f"{live_server}/map?center={HAMBURG[0]},{HAMBURG[1]}&zoom=8")
    expect(page.locator(".place-label").get_by_text("Hamburg", exact=True)).to_be_visible(timeout=20_000)  # cities load once
    expect(page.locator(".place-label").get_by_text("Bremen", exact=True)).to_be_visible()
    page.wait_for_function("() => document.getElementById('map').leafletMap.getPane('basemap').querySelector('canvas')")
    page.wait_for_function("() => { const c = document.getElementById('map').leafletMap.getPane('basemap')"
                           ".querySelector('canvas'); return c && c.width > 0; }")
    page.wait_for_function("""() => {
        const map = document.getElementById('map').leafletMap;
        const canvas = map.getPane('basemap').querySelector('canvas');
        return canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data.some((v, i) => i % 4 === 3 && v > 0);
    }""")
    assert pixel_alpha(page, *HAMBURG) == 255  # land
    assert pixel_alpha(page, *NORTH_SEA) == 0  # sea: the map's background shows through
    assert elsewhere == []
