"""An id beyond what an id column holds is a 404, never an overflow error from the database driver."""
import pytest

HUGE = "99999999999999999999999"

URLS = [f"/{plural}/{HUGE}" for plural in ("leads", "deals", "contacts", "organizations")] + [
    f"/leads/{HUGE}/edit", f"/leads/{HUGE}/similar", f"/lists/{HUGE}", f"/admin/users/{HUGE}",
    f"/admin/pools/{HUGE}", f"/admin/forms/{HUGE}", f"/map/territories/{HUGE}/edit",
    f"/pipeline/stages/{HUGE}/cards", f"/leads/{HUGE}/convert", f"/bulk/{HUGE}", f"/jobs/{HUGE}",
]


@pytest.mark.parametrize("url", URLS)
def test_a_huge_id_in_a_url_is_not_found(client, auth, url):
    auth.login()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [f"/leads/{HUGE}/trash", f"/pipeline/deals/{HUGE}/move", f"/lists/{HUGE}/delete"])
def test_a_huge_id_in_a_form_action_is_not_found(app, client, auth, url):
    app.config["WTF_CSRF_ENABLED"] = False
    auth.login()
    assert client.post(url).status_code == 404


@pytest.mark.parametrize("record_id", [2**31 - 1, 2**31, 2**63 - 1, 2**63])
def test_ids_around_the_integer_limits_are_a_plain_404(client, auth, record_id):
    auth.login()
    assert client.get(f"/leads/{record_id}").status_code == 404
