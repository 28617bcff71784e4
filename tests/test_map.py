"""The map page, its JSON for the viewport, pin popups, the lasso endpoint and territory forms."""
import json

import pytest
from sqlalchemy import func, select, update

from crm.extensions import db
from crm.models import Deal, Lead, Territory, User
from crm.services.record_types import RECORD_TYPES
from tests.test_bulk import apply

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
    data = client.get("/map/leads/1/popup").get_json()
    assert data["title"] == lead.title and data["url"] == "/leads/1" and data["open"] == "Open lead"
    fields = dict(data["fields"])
    assert fields["Owner"] == lead.owner.name and fields["Status"] == lead.status.name


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
    assert client.post("/map/territories", data={"name": "Mine", "outline": "[[1,1],[1,5],[5,5]]"}).status_code == 403
    assert db.session.scalar(select(Territory).where(Territory.name == "Mine")) is None
    iberia = db.session.scalar(select(Territory.id).where(Territory.name == "Iberia"))
    assert client.post(f"/map/territories/{iberia}/delete").status_code == 403
    assert client.get(f"/map/territories/{iberia}/delete").status_code == 403


def test_deleting_a_territory_from_the_map_keeps_its_records(client, auth):
    auth.login()
    iberia = db.session.scalar(select(Territory).where(Territory.name == "Iberia"))
    members = located_leads(territory_id=iberia.id)
    total = sum(db.session.scalar(select(func.count()).select_from(t.model).where(t.model.territory_id == iberia.id))
                for t in RECORD_TYPES.values())
    response = client.post(f"/map/territories/{iberia.id}/delete", follow_redirects=True)
    assert f"Territory “Iberia” deleted; its {total} records stay." in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(db.session.get(Lead, i).territory_id is None and db.session.get(Lead, i).deleted_at is None
               for i in members)


def test_map_page_works_without_a_tile_server(client, auth, app):
    auth.login()
    app.config["MAP_TILE_URL"] = ""
    page = client.get("/map").get_data(as_text=True)
    assert 'data-tile-url=""' in page
    assert 'data-world="/vendor/world/"' in page and 'data-places="/map/places"' in page  # the offline map
    app.config.update(MAP_TILE_URL="https://tiles.example/{z}/{x}/{y}.png", MAP_TILE_ATTRIBUTION="© Example tiles")
    page = client.get("/map").get_data(as_text=True)
    assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in page
    assert 'data-tile-attribution="© Example tiles"' in page and "data-world" not in page


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


# -- deleting a territory asks first; its records go to the territory around them -------------

MADRID = json.dumps([[40.0, -4.2], [40.8, -4.2], [40.8, -3.2], [40.0, -3.2]])


def test_delete_asks_first_with_the_record_count(client, auth):
    auth.login()
    iberia = db.session.scalar(select(Territory).where(Territory.name == "Iberia"))
    total = sum(db.session.scalar(select(func.count()).select_from(t.model).where(t.model.territory_id == iberia.id))
                for t in RECORD_TYPES.values())
    url = f"/map/territories/{iberia.id}/delete?next=/map/deals?owner%3D3"
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "Delete territory “Iberia”?" in page
    assert f"Its {total} records stay, and go to the territory around them, if any." in page
    assert 'name="csrf_token"' in page and ">Delete territory</button>" in page
    assert 'href="/map/deals?owner=3" data-drawer-close>Cancel</a>' in page
    assert 'name="next" value="/map/deals?owner=3"' in page
    fragment = client.get(url, headers=HTMX).get_data(as_text=True)
    assert "<html" not in fragment and 'id="territory-delete"' in fragment
    assert db.session.get(Territory, iberia.id) is not None  # asking deletes nothing
    map_page = client.get("/map/deals?owner=3").get_data(as_text=True)
    assert f'href="/map/territories/{iberia.id}/delete?next=/map/deals?owner%3D3"' in map_page


def test_records_of_a_deleted_territory_go_to_the_territory_around_them(client, auth):
    auth.login()
    db.session.execute(update(Lead).where(Lead.id.in_([1, 2])).values(lat=40.4, lng=-3.7))
    db.session.commit()
    client.post("/map/territories", data={"name": "Madrid Core", "outline": MADRID, "color": "#112233"})
    core = db.session.scalar(select(Territory).where(Territory.name == "Madrid Core"))
    iberia = db.session.scalar(select(Territory.id).where(Territory.name == "Iberia"))
    assert located_leads(territory_id=core.id) >= {1, 2}
    response = client.post(f"/map/territories/{core.id}/delete", data={"next": "/map"}, follow_redirects=True)
    assert "Territory “Madrid Core” deleted" in response.get_data(as_text=True)
    assert "now in the territory around them" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {db.session.get(Lead, 1).territory_id, db.session.get(Lead, 2).territory_id} == {iberia}


# -- the map follows the filter: type switch, views of this filter, territory links -----------

def views_block(body: str) -> str:
    return body.split('id="map-views"')[1].split("</div>")[0]


def test_filter_change_brings_the_switches_and_territory_links_out_of_band(client, auth, rep):
    auth.login()
    body = client.get(f"/map?owner={rep.id}&status=1", headers=HTMX).get_data(as_text=True)
    assert "<html" not in body and body.count('hx-swap-oob="true"') >= 3
    views = views_block(body)
    assert f'href="/map/deals?owner={rep.id}"' in views  # the type switch keeps what fits every type
    assert f'href="/leads/?owner={rep.id}&amp;status=1"' in views
    assert f'id="territory-next" value="/map?owner={rep.id}&amp;status=1" hx-swap-oob="true"' in body
    assert f"next=/map?owner%3D{rep.id}%26status%3D1" in body  # edit and delete links come back here


def test_map_offers_the_views_of_this_filter(client, auth, rep):
    auth.login()
    page = client.get(f"/map/deals?owner={rep.id}").get_data(as_text=True)
    views = page.split('aria-label="Views of this filter"')[1].split("</nav>")[0]
    assert f'href="/deals/?owner={rep.id}">List</a>' in views
    assert f'href="/pipeline?owner={rep.id}">Kanban</a>' in views
    assert f'href="/map?type=deal&amp;owner={rep.id}" aria-current="page">Map</a>' in views
    leads = client.get("/map").get_data(as_text=True).split('aria-label="Views of this filter"')[1].split("</nav>")[0]
    assert "Kanban" not in leads and 'href="/leads/">List</a>' in leads


# -- a refused territory keeps the drawn outline -----------------------------------------

def test_a_refused_territory_comes_back_with_its_outline_to_fix(client, auth):
    auth.login()
    outline = json.dumps([[10, 10], [10, 20], [20, 20], [20, 10]])
    response = client.post("/map/territories", data={
        "name": "Iberia", "owner": "", "color": "#112233", "next": "/map/deals?source=Referral", "outline": outline})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in body and "Map of deals" in body
    assert "The territory was not saved: There is already a territory called “Iberia”." in body
    form = body.split('id="territory-form"')[1].split("</form>")[0]
    assert " hidden>" not in form.split(">")[0] + ">"
    assert 'value="Iberia"' in form and 'value="#112233"' in form
    assert f'name="outline" value="{outline.replace(chr(34), "&#34;")}"' in form
    assert 'value="/map/deals?source=Referral"' in form
    owner = db.session.scalar(select(User.id).where(User.email == "rep2@example.com"))
    response = client.post("/map/territories", data={"name": "Auto", "owner": str(owner), "auto_assign": "1",
                                                     "outline": outline, "next": "/map"})
    assert response.status_code == 303  # fixed: saved
    response = client.post("/map/territories", data={"name": "Auto 2", "auto_assign": "1", "outline": outline})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Auto-assign needs an owner" in body and 'value="Auto 2"' in body
    assert db.session.scalar(select(Territory).where(Territory.name == "Auto 2")) is None


# -- the lasso after a mass change, and its wording ---------------------------------------

def test_lasso_refresh_keeps_unticked_pins_and_the_drawer(client, auth):
    auth.login()
    ids = sorted(located_leads())
    body = client.post("/map/leads/lasso", data={"shape": EUROPE, "refresh": "1", "picked": ",".join(map(str, ids[1:]))},
                       headers=HTMX).get_data(as_text=True)
    assert f'value="{ids[0]}"  id="pick-{ids[0]}"' in body or f'value="{ids[0]}" id="pick-{ids[0]}"' in body
    assert f'value="{ids[1]}" checked id="pick-{ids[1]}"' in body
    assert 'hx-trigger="change, submit"' in body  # no "load": the drawer keeps the outcome of the change


def test_lasso_pick_list_shows_owners_after_a_mass_change(client, auth):
    auth.login()
    lead = db.session.get(Lead, min(located_leads()))
    sofia = db.session.scalar(select(User).where(User.email == "rep3@example.com"))
    apply(client, type="lead", ids=str(lead.id), action="reassign", new_owner=str(sofia.id),
          confirm="REASSIGN", count="1")
    body = client.post("/map/leads/lasso", data={"shape": EUROPE, "refresh": "1", "picked": str(lead.id)},
                       headers=HTMX).get_data(as_text=True)
    row = body.split(f'id="pick-{lead.id}"')[1].split("</li>")[0]
    assert sofia.name in row


def test_the_drawer_opened_from_the_map_speaks_of_pins(client, auth):
    auth.login()
    ids = ",".join(map(str, sorted(located_leads())[:3]))
    from_map = client.post("/bulk/drawer", data={"type": "lead", "ids": ids, "from": "map"}, headers=HTMX).get_data(as_text=True)
    assert "not only the pins you see" in from_map and 'name="from" value="map"' in from_map
    from_list = client.post("/bulk/drawer", data={"type": "lead", "ids": ids}, headers=HTMX).get_data(as_text=True)
    assert "Each action below applies" not in from_list and 'name="from"' not in from_list  # ticked rows are all in sight
    lasso = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    assert '<input type="hidden" name="from" value="map">' in lasso


def test_reps_are_not_offered_mass_change_wording(client, auth, monkeypatch):
    monkeypatch.setattr("crm.map.routes.LIST_LIMIT", 1)  # "too many to list"
    auth.login("rep1@example.com")
    body = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    assert "Too many to list one by one: draw a smaller lasso to see each pin." in body
    assert "leave owners out" not in body and "untick" not in body
    auth.logout()
    auth.login("manager@example.com")
    body = client.post("/map/leads/lasso", data={"shape": EUROPE}, headers=HTMX).get_data(as_text=True)
    assert "or leave owners out in the mass change" in body


def test_without_javascript_the_map_page_says_so_and_links_to_the_same_list(client, auth):
    auth.login()
    page = client.get("/map?owner=me&status=1").get_data(as_text=True)
    noscript = page[page.index("<noscript>"):page.index("</noscript>")]
    assert "The map needs JavaScript" in noscript
    admin = db.session.scalar(select(User.id).where(User.email == "admin@example.com"))
    assert f'href="/leads/?owner={admin}&amp;status=1"' in noscript
    assert 'class="map-tools" role="toolbar" aria-label="Map tools" data-needs-js hidden' in page  # no dead buttons


def test_pins_can_be_coloured_by_owner_with_a_legend_of_owners(client, auth):
    auth.login()
    by_owner = client.get("/map/leads/points?bbox=-180,-90,180,90&zoom=12&color=owner").get_json()
    assert by_owner["mode"] == "pins"
    owners = dict(db.session.execute(select(Lead.id, Lead.owner_id)).all())
    assert all(pin[3] == owners[pin[0]] for pin in by_owner["pins"])
    page = client.get("/map?color=owner").get_data(as_text=True)
    assert '<option value="owner" selected>' in page
    assert 'data-legend="status" hidden' in page and 'data-legend="owner">' in page
    assert "Sofia Rossi" in page[page.index('data-legend="owner"'):]
