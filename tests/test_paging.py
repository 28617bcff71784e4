"""Every paginated page reads ?page=N the same way (crm/paging.py): past the end it shows the
last page and says so; text, zero and negatives mean page 1."""
import re

import pytest

from crm.paging import requested_page, shown_page

PAGES = ["/activity", "/leads/", "/deals/", "/contacts/", "/trash", "/leads/duplicates"]


@pytest.mark.parametrize("raw, page", [(None, 1), ("", 1), ("abc", 1), ("-3", 1), ("0", 1), ("1.5", 1),
                                       ("²", 1), ("7", 7), ("99999999999999999999999", 99999999999999999999999)])
def test_a_page_number_is_a_whole_number_from_one(raw, page):
    assert requested_page(raw) == page


def test_a_page_past_the_end_is_the_last_page_with_a_notice():
    assert shown_page(99999, 63) == (63, "Page 99999 does not exist; showing page 63.")
    assert shown_page(3, 63) == (3, None)
    assert shown_page(2, 0) == (1, "Page 2 does not exist; showing page 1.")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("page", ["99999", "99999999999999999999999"])
def test_every_list_goes_to_its_last_page_past_the_end(client, auth, url, page):
    auth.login()
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(f"{url}?page={page}", headers=headers)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        notice = re.search(rf"Page {page} does not exist; showing page (\d+)\.", text)
        assert notice, text[:2000]
        last = int(notice[1])
        assert f"Page {page} of" not in text
        assert last == 1 or f"Page {last} of {last}" in text


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("page", ["abc", "-2", "0"])
def test_a_page_that_is_not_a_number_is_the_first_page(client, auth, url, page):
    auth.login()
    response = client.get(f"{url}?page={page}")
    assert response.status_code == 200
    assert b"does not exist" not in response.data


def test_the_activity_feed_pages_past_the_end_to_the_last_page(client, auth):
    auth.login()
    last = client.get("/activity?page=99999").get_data(as_text=True)
    assert re.search(r"Page 99999 does not exist; showing page \d+\.", last)
    assert "Nothing has happened yet." not in last


def test_the_api_shows_its_last_page_past_the_end(app, client, runner):
    token = runner.invoke(args=["api-token", "admin@example.com"]).output.strip().split()[-1]
    body = client.get("/api/leads?page=99999999999999999999999",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["page"] == 1 and body["items"]
    assert body["notice"] == "Page 99999999999999999999999 does not exist; showing page 1."
