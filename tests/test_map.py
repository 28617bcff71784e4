"""The map page, its JSON for the viewport, pin popups, the lasso endpoint and territory forms."""
import json

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Lead, Territory, User
from crm.services.record_types import RECORD_TYPES

HTMX = {"HX-Request": "true"}
EUROPE = json.dumps([[30, -30], [72, -30], [72, 45], [30, 45]])


def located_leads(**where) -> set[int]:
    stmt = select(Lead.id).where(Lead.lat.is_not(None), Lead.lng.is_not(None), Lead.deleted_at.is_(None))
    for key, value in where.items():
        stmt = stmt.where(getattr(Lead, key) == value)
    return set(db.session.scalars(stmt))


def test_map_page_shows_counts_legend_and_the_no_location_link(client, auth):
    auth.login()
    page = client.get("/map").get_data(as_text=True)
    unlocated = db.session.scalar(select(func.count(Lead.id)).where(Lead.lat.is_(None)))
    assert f"<strong>{len(located_leads())}</strong> leads on the map" in page
    assert f"{unlocated} leads have no location" in page
    assert "/leads/?located=no" in page
    assert 'class="legend"' in page and "Qualified" in page
    assert "leaflet.js" in page and "lasso.js" in page


def test_map_is_in_the_navigation(client, auth):
    auth.login()
    assert 'href="/map"' in client.get("/leads/").get_data(as_text=True)


@pytest.mark.parametrize("url, heading", [("/map/deals", "Map of deals"), ("/map/contacts", "Map of contacts"),
                                          ("/map", "Map of leads")])
def test_record_type_switch(client, auth, url, heading):
    auth.login()
    response = client.get(url)
    assert response.status_code == 200 and heading in response.get_data(as_text=True)


def test_type_argument_redirects_to_the_type_path_keeping_filters(client, auth):
    auth.login()
    response = client.get("/map?type=deal&owner=3")
    assert response.status_code == 303 and response.location.endswith("/map/deals?owner=3")


def test_filter_change_returns_the_summary_block_only(client, auth, rep):
    auth.login()
    response = client.get(f"/map?owner={rep.id}", headers=HTMX)
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="record-rows"' in body
    assert f"<strong>{len(located_leads(owner_id=rep.id))}</strong>" in body
    assert f"owner={rep.id}" in json.loads(body.split('id="map-config">')[1].split("</script>")[0])["points"]


def test_points_respect_filters_and_permissions(client, auth, rep):
    auth.login("rep1@example.com")
    data = client.get("/map/leads/points?bbox=-180,-90,180,90&zoom=3").get_json()
    team = set(db.session.scalars(select(Lead.id).where(Lead.team_id == rep.team_id, Lead.lat.is_not(None))))
    assert data["mode"] == "pins" and {p[0] for p in data["pins"]} == team
    assert client.get("/map/leads/points?bbox=x&zoom=3").status_code == 400


def test_invalid_filter_shows_the_error_and_no_pins(client, auth):
    auth.login()
    assert "There is no owner #99999" in client.get("/map?owner=99999").get_data(as_text=True)
    assert client.get("/map/leads/points?owner=99999").get_json()["total"] == 0


def test_popup_has_key_fields_and_a_link(client, auth):
    auth.login()
    lead = db.session.get(Lead, 1)
    body = client.get("/map/leads/1/popup", headers=HTMX).get_data(as_text=True)
    assert "<html" not in body and lead.title in body and 'href="/leads/1"' in body and "Owner" in body


def test_popup_of_someone_elses_record_is_refused(client, auth):
    other = db.session.scalar(select(Lead.id).join(User, User.id == Lead.owner_id).where(User.email == "rep4@example.com"))
    auth.login("rep1@example.com")
    assert client.get(f"/map/leads/{other}/popup").status_code == 403


def test_lasso_lists_the_selected_pins_for_the_mass_change(client, auth):
    auth.login()
    body = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    ids = located_leads()
    assert "<html" not in body and f"Lasso: {len(ids)} leads" in body
    assert body.count('type="checkbox" name="ids"') == len(ids)
    assert 'name="type" value="lead"' in body


def test_lasso_keeps_the_filter(client, auth, rep):
    auth.login()
    body = client.post("/map/leads/lasso", data={"shape": EUROPE, "owner": str(rep.id)}, headers=HTMX).get_data(as_text=True)
    assert f"Lasso: {len(located_leads(owner_id=rep.id))} leads" in body
    assert f'name="owner" value="{rep.id}"' in body


@pytest.mark.parametrize("shape, message", [
    ("[[1, 1], [2, 2]]", "at least 3"),
    ("[[1, 1], [2, 2], [3, 3]]", "no area"),
    ("garbage", "could not be read"),
    ("", "at least 3"),
])
def test_bad_lasso_shapes_answer_with_a_message_not_an_error(client, auth, shape, message):
    auth.login()
    response = client.post("/map/leads/lasso", data={"shape": shape}, headers=HTMX)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_lasso_around_nothing_says_so(client, auth):
    auth.login()
    body = client.post("/map/leads/lasso", data={"shape": "[[-60,-60],[-61,-60],[-61,-61]]"}, headers=HTMX).get_data(as_text=True)
    assert "No leads inside the lasso" in body


def test_admin_draws_a_territory_and_can_filter_by_it(client, auth):
    auth.login()
    db.session.execute(update(Lead).where(Lead.id.in_([1, 2])).values(lat=15.0, lng=15.0))
    db.session.commit()
    response = client.post("/map/territories", data={
        "name": "Test square", "owner": "", "color": "#112233", "next": "/map?source=Referral",
        "outline": json.dumps([[10, 10], [10, 20], [20, 20], [20, 10]])})
    assert response.status_code == 303 and response.location.endswith("/map?source=Referral")
    t = db.session.scalar(select(Territory).where(Territory.name == "Test square"))
    assert t.color == "#112233"
    assert located_leads(territory_id=t.id) == {1, 2}
    listing = client.get(f"/leads/?territory={t.id}").get_data(as_text=True)
    assert "<strong>2</strong> leads" in listing


def test_bad_territory_is_not_saved_and_says_why(client, auth):
    auth.login()
    response = client.post("/map/territories", data={"name": "Line", "outline": "[[1,1],[2,2]]"},
                           follow_redirects=True)
    assert "The territory was not saved: Draw around the pins" in response.get_data(as_text=True)
    assert db.session.scalar(select(Territory).where(Territory.name == "Line")) is None


def test_reps_cannot_create_or_delete_territories(client, auth):
    auth.login("rep1@example.com")
    page = client.get("/map").get_data(as_text=True)
    assert "Draw territory" not in page
    client.post("/map/territories", data={"name": "Mine", "outline": "[[1,1],[1,5],[5,5]]"})
    assert db.session.scalar(select(Territory).where(Territory.name == "Mine")) is None
    iberia = db.session.scalar(select(Territory.id).where(Territory.name == "Iberia"))
    assert client.post(f"/map/territories/{iberia}/delete").status_code == 403


def test_deleting_a_territory_from_the_map_keeps_its_records(client, auth):
    auth.login()
    iberia = db.session.scalar(select(Territory).where(Territory.name == "Iberia"))
    members = located_leads(territory_id=iberia.id)
    total = sum(db.session.scalar(select(func.count()).select_from(t.model).where(t.model.territory_id == iberia.id))
                for t in RECORD_TYPES.values())
    response = client.post(f"/map/territories/{iberia.id}/delete", follow_redirects=True)
    assert f"{total} records no longer have a territory" in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(db.session.get(Lead, i).territory_id is None and db.session.get(Lead, i).deleted_at is None
               for i in members)


def test_map_page_works_without_a_tile_server(client, auth, app):
    auth.login()
    app.config["MAP_TILE_URL"] = ""
    assert 'data-tile-url=""' in client.get("/map").get_data(as_text=True)
    app.config["MAP_TILE_URL"] = "https://tiles.example/{z}/{x}/{y}.png"
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in client.get("/map").get_data(as_text=True)


def test_reps_see_their_lasso_selection_without_the_mass_change(client, auth):
    auth.login("rep1@example.com")
    body = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    assert "Lasso:" in body and "/bulk/drawer" not in body
    assert "Mass change is for admins and managers" in body


def test_managers_lasso_opens_the_drawer_with_an_empty_fallback_selection(client, auth):
    auth.login("manager@example.com")
    body = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    assert 'hx-post="/bulk/drawer"' in body and 'hx-trigger="load, change, submit"' in body
    assert '<input type="hidden" name="ids" value="">' in body  # all pins unticked -> nothing, never "all"


def test_unticking_every_pin_gives_the_drawer_nothing_to_change(client, auth):
    auth.login()
    body = client.post("/bulk/drawer", data={"type": "lead", "ids": ""}, headers=HTMX).get_data(as_text=True)
    assert "Nothing to change" in body
