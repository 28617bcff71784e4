"""Logging in and out: every session of a user ends on logout, a password change and deactivation;
remember-me cookies rotate; idle and absolute limits; cookie flags."""
import time

import pytest
from flask.testing import FlaskClient

from crm import create_app
from crm.auth.sessions import LoginToken
from crm.config import TestConfig
from crm.extensions import db
from tests.conftest import user

REMEMBER = "remember_token"


def login(client: FlaskClient, email: str = "admin@example.com", keep: bool = True, password: str = "demo"):
    data = {"email": email, "password": password}
    if keep:
        data["keep"] = "y"
    return client.post("/login", data=data)


def logged_in(client: FlaskClient) -> bool:
    return client.get("/leads/").status_code == 200


def stolen_copy(app, client: FlaskClient) -> FlaskClient:
    """Another browser holding copies of the client's cookies (as an attacker who copied them would)."""
    thief = app.test_client()
    for name in ("session", REMEMBER):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def remember_only(app, client: FlaskClient) -> FlaskClient:
    """A browser that was closed: the session cookie is gone, the remember-me cookie stays."""
    other = app.test_client()
    other.set_cookie(REMEMBER, client.get_cookie(REMEMBER).value)
    return other


def test_logging_out_ends_the_login_even_with_the_remember_me_cookie(client, auth):
    login(client)
    assert client.get_cookie(REMEMBER) is not None
    assert logged_in(client)
    auth.logout()
    assert client.get_cookie(REMEMBER) is None
    assert client.get("/leads/").status_code == 302


def test_logout_ends_copies_of_the_old_cookies_and_every_other_device(app, client):
    login(client)
    copy, other_device = stolen_copy(app, client), app.test_client()
    login(other_device)
    only_remember = remember_only(app, client)
    assert logged_in(copy) and logged_in(other_device) and logged_in(only_remember)
    client.post("/logout")
    assert not logged_in(copy)
    assert not logged_in(other_device)
    assert not logged_in(only_remember)


def test_a_password_change_ends_every_session_of_that_user(app, client, auth):
    rep_browser = app.test_client()
    login(rep_browser, "rep1@example.com")
    copy = remember_only(app, rep_browser)
    login(client)
    response = client.post(f"/admin/users/{user('rep1@example.com').id}", data={
        "name": "Rep One", "email": "rep1@example.com", "role": "rep", "team": str(user("rep1@example.com").team_id),
        "active": "y", "can_convert_deals": "y", "password": "a-new-secret-1"})
    assert response.status_code == 303
    assert not logged_in(rep_browser) and not logged_in(copy)
    assert logged_in(client), "the admin who changed it stays logged in"
    assert login(rep_browser, "rep1@example.com", password="a-new-secret-1").status_code == 303


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app, client):
    login(client)
    elsewhere = app.test_client()
    login(elsewhere)
    admin = user("admin@example.com")
    client.post(f"/admin/users/{admin.id}", data={
        "name": admin.name, "email": admin.email, "role": "admin", "team": "", "active": "y",
        "can_convert_deals": "y", "password": "a-new-secret-2"})
    assert logged_in(client)
    assert not logged_in(elsewhere)


def test_deactivation_ends_every_session_of_that_user(app, client):
    rep = user("rep2@example.com")
    rep_browser = app.test_client()
    login(rep_browser, rep.email)
    assert logged_in(rep_browser)
    login(client)
    client.post(f"/admin/users/{rep.id}", data={"name": rep.name, "email": rep.email, "role": "rep",
                                                "team": str(rep.team_id), "can_convert_deals": "y"})
    db.session.expire_all()
    assert user("rep2@example.com").active is False
    assert not logged_in(rep_browser)
    assert login(rep_browser, rep.email).status_code == 422


def test_remember_me_cookies_rotate_on_each_login(app):
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    a, b = first.get_cookie(REMEMBER).value, second.get_cookie(REMEMBER).value
    assert a != b
    assert logged_in(remember_only(app, first)) and logged_in(remember_only(app, second))


def test_without_keep_me_logged_in_there_is_no_remember_me_cookie(client):
    login(client, keep=False)
    assert logged_in(client)
    assert client.get_cookie(REMEMBER) is None


def test_cookies_are_samesite_lax_and_httponly(client):
    response = login(client)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith(REMEMBER + "="))
    for cookie in (session_cookie, remember):
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        assert "Secure" not in cookie  # plain http in development; COOKIE_SECURE turns it on


def test_secure_cookies_get_the_host_prefix(app, database_url):
    secure = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, COOKIE_SECURE=True)
    with secure.app_context():
        client = secure.test_client()
        response = login(client)
        cookies = response.headers.getlist("Set-Cookie")
        assert any(c.startswith("__Host-session=") and "Secure" in c and "Path=/" in c for c in cookies)
        assert any(c.startswith("__Host-remember_token=") and "Secure" in c for c in cookies)
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_an_idle_session_ends_unless_kept(app, client, monkeypatch):
    login(client, keep=False)
    kept = app.test_client()
    login(kept)
    later = time.time() + app.config["SESSION_IDLE_TIMEOUT"] + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not logged_in(client)
    assert logged_in(kept)


def test_a_login_ends_after_its_lifetime_even_when_kept(app, client, monkeypatch):
    login(client)
    later = time.time() + app.config["SESSION_LIFETIME"] + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not logged_in(client)
    assert not logged_in(remember_only(app, client))


@pytest.mark.parametrize("forged", ["1", "1.1", "1.1.1.1", f"1.1.{10**30}.0.x", "1.１.1.0.x", "x" * 5000])
def test_forged_or_old_style_login_tokens_log_nobody_in(forged):
    token = LoginToken.parse(forged)
    assert token is None


@pytest.mark.parametrize("target,expected", [
    ("/deals/", "/deals/"), ("//evil.example/", "/leads/"), ("/\\evil.example/", "/leads/"),
    ("https://evil.example/", "/leads/"), ("/" + "a" * 70000, "/leads/"), ("/x\r\nSet-Cookie: a=b", "/leads/")])
def test_after_login_only_short_paths_on_this_site_are_followed(client, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"email": "admin@example.com", "password": "demo"})
    assert response.status_code == 303
    assert response.headers["Location"] == expected
