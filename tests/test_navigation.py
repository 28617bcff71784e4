"""The main menu offers only what the user may open."""
import pytest


@pytest.mark.parametrize("email, shown", [("rep1@example.com", False), ("manager@example.com", True),
                                          ("admin@example.com", True)])
def test_the_import_menu_entry_shows_only_to_who_may_import(client, auth, email, shown):
    auth.login(email)
    assert ('href="/import/"' in client.get("/deals/").get_data(as_text=True)) == shown
    assert client.get("/import/").status_code == (200 if shown else 403)
