"""Logging in and out."""


def test_logging_out_ends_the_login_even_with_the_remember_me_cookie(client, auth):
    auth.login()
    assert client.get_cookie("remember_token") is not None
    assert client.get("/leads/").status_code == 200
    auth.logout()
    assert client.get_cookie("remember_token") is None
    assert client.get("/leads/").status_code == 302
