"""Smart lists: a saved filter, private or shared with the team, opened in every view, reassigned at once."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import SavedList


def save(client, name: str, shared: bool = False, **filter_args):
    data = {"list_type": "lead", "list_name": name, **filter_args}
    if shared:
        data["list_shared"] = "1"
    return client.post("/lists/", data=data)


def test_saving_a_filter_opens_it_and_lists_it_in_the_sidebar(client, auth, rep):
    auth.login("manager@example.com")
    response = save(client, "North web leads", source="Web form", owner=str(rep.id))
    saved = db.session.scalar(select(SavedList).where(SavedList.name == "North web leads"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leads/?{saved.query}")
    page = client.get("/leads/").get_data(as_text=True)
    assert "North web leads" in page and saved.query.replace("&", "&amp;") in page


def test_a_private_list_is_only_the_savers_and_a_shared_one_reaches_the_team(client, auth):
    auth.login("rep1@example.com")
    save(client, "Mine only", source="Web form")
    save(client, "For the team", shared=True, source="Referral")
    auth.logout()
    auth.login("rep2@example.com")  # same team (North)
    page = client.get("/leads/").get_data(as_text=True)
    assert "For the team" in page and "Mine only" not in page
    private = db.session.scalar(select(SavedList.id).where(SavedList.name == "Mine only"))
    assert client.get(f"/lists/{private}").status_code == 404
    auth.logout()
    auth.login("rep4@example.com")  # the other team
    assert "For the team" not in client.get("/leads/").get_data(as_text=True)


def test_only_the_saver_deletes_a_shared_list(client, auth):
    auth.login("rep1@example.com")
    save(client, "Shared", shared=True, source="Referral")
    saved_id = db.session.scalar(select(SavedList.id).where(SavedList.name == "Shared"))
    auth.logout()
    auth.login("rep2@example.com")
    assert client.post(f"/lists/{saved_id}/delete").status_code == 403
    auth.logout()
    auth.login("rep1@example.com")
    assert client.post(f"/lists/{saved_id}/delete").status_code == 303
    assert db.session.get(SavedList, saved_id) is None


def test_a_list_without_a_name_or_with_a_bad_filter_is_not_saved(client, auth):
    auth.login()
    save(client, "  ", source="Referral")
    save(client, "Broken", owner="nobody")
    assert db.session.scalars(select(SavedList)).all() == []


def test_the_list_page_names_the_smart_list_and_offers_reassign_owner(client, auth):
    auth.login()
    save(client, "Referrals", source="Referral")
    saved = db.session.scalar(select(SavedList))
    page = client.get(f"/leads/?{saved.query}").get_data(as_text=True)
    assert "Smart list <strong>Referrals</strong>" in page
    assert "Reassign owner" in page and "action=reassign" in page
    drawer = client.get(f"/bulk/drawer?type=lead&all=1&action=reassign&{saved.query}").get_data(as_text=True)
    assert "Mass change: leads" in drawer and "every one matching the filter" in drawer


def test_reps_see_their_smart_list_without_reassign_owner(client, auth):
    auth.login("rep1@example.com")
    save(client, "My referrals", source="Referral")
    saved = db.session.scalar(select(SavedList))
    page = client.get(f"/leads/?{saved.query}").get_data(as_text=True)
    assert "Smart list <strong>My referrals</strong>" in page and "Reassign owner" not in page
