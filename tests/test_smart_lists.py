"""Smart lists: a saved filter, private or shared with the team, opened in every view, reassigned at once."""
import re
from html.parser import HTMLParser

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


def test_a_second_list_with_the_same_name_is_refused_and_the_filter_kept(client, auth):
    auth.login()
    save(client, "Referrals", source="Referral")
    response = save(client, "referrals", source="Web form")
    assert response.headers["Location"].endswith("/leads/?source=Web+form")
    assert len(db.session.scalars(select(SavedList)).all()) == 1
    page = client.get("/leads/?source=Web+form").get_data(as_text=True)
    assert "You already have a smart list called “referrals”" in page


def test_a_smart_list_keeps_its_sort_and_is_recognised_whatever_the_sort(client, auth):
    auth.login()
    save(client, "Big referrals", source="Referral", sort="-value")
    saved = db.session.scalar(select(SavedList))
    assert saved.query == "source=Referral&sort=-value"
    for url in ("/leads/?source=Referral&sort=-value", "/leads/?source=Referral"):
        assert "Smart list <strong>Big referrals</strong>" in client.get(url).get_data(as_text=True)


def test_the_owner_deletes_a_smart_list_from_its_page(client, auth):
    auth.login("rep1@example.com")
    save(client, "Mine", source="Referral")
    saved = db.session.scalar(select(SavedList))
    page = client.get(f"/leads/?{saved.query}").get_data(as_text=True)
    assert f'action="/lists/{saved.id}/delete"' in page and "Delete smart list" in page
    auth.logout()
    auth.login("rep2@example.com")
    assert "Delete smart list" not in client.get(f"/leads/?{saved.query}").get_data(as_text=True)


class _Controls(HTMLParser):
    """The names of the controls that belong to each form of a page (inside it, or form="id")."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, list[str]] = {}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._open = a.get("id", "")
            self.forms.setdefault(self._open, [])
        elif tag in ("input", "select", "textarea", "button") and a.get("name"):
            owner = a.get("form") or self._open
            if owner is not None:
                self.forms.setdefault(owner, []).append(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def test_the_filter_form_sends_only_the_filter_and_the_smart_list_form_saves_it(client, auth):
    """Two forms side by side: Apply (no JS) puts no token or list name in the URL; saving without
    JS saves the filter the page shows."""
    auth.login()
    page = client.get("/leads/?source=Referral&sort=-value").get_data(as_text=True)
    controls = _Controls()
    controls.feed(page)
    assert not {"csrf_token", "list_name", "list_type"} & set(controls.forms["filters"])
    assert {"csrf_token", "list_name", "list_type"} <= set(controls.forms["save-list"])
    assert not {"source", "q", "owner"} & set(controls.forms["save-list"])
    action = re.search(r'<form id="save-list"[^>]*action="([^"]+)"', page)[1].replace("&amp;", "&")
    response = client.post(action, data={"list_type": "lead", "list_name": "Referrals by value"})
    saved = db.session.scalar(select(SavedList).where(SavedList.name == "Referrals by value"))
    assert response.status_code == 303 and saved.query == "source=Referral&sort=-value"


def test_the_list_carries_its_sort_into_the_filter_form(client, auth):
    auth.login()
    page = client.get("/leads/?sort=-value").get_data(as_text=True)
    assert '<input type="hidden" form="filters" name="sort" value="-value">' in page
    assert 'form="filters" name="sort"' not in client.get("/leads/").get_data(as_text=True)
