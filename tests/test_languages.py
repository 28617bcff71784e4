"""Language per user: the user's choice, else the browser's Accept-Language, else DEFAULT_LOCALE."""
import email
import re

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db
from tests.conftest import user


def page_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)" dir="(\w+)"', response.text).group(1, 2)


def test_the_browser_language_applies_until_the_user_chooses_one(client, auth):
    assert page_lang(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})) == ("fr", "ltr")
    assert page_lang(client.get("/login", headers={"Accept-Language": "fa"})) == ("fa", "rtl")
    assert page_lang(client.get("/login", headers={"Accept-Language": "de,ja"})) == ("en", "ltr")
    auth.login("rep1@example.com")
    assert page_lang(client.get("/leads/", headers={"Accept-Language": "sv"})) == ("sv", "ltr")


def test_a_user_who_chooses_a_language_gets_it_whatever_the_browser_says(client, auth):
    auth.login("rep1@example.com")
    response = client.post("/account/language", data={"language": "es", "next": "/deals?stage=2"})
    assert response.status_code == 303 and response.headers["Location"] == "/deals?stage=2"
    assert user("rep1@example.com").locale == "es"
    assert page_lang(client.get("/leads/", headers={"Accept-Language": "fr"})) == ("es", "ltr")
    assert page_lang(client.get("/account")) == ("es", "ltr")

    client.post("/account/language", data={"language": "", "next": "/account"})
    assert user("rep1@example.com").locale is None
    assert page_lang(client.get("/leads/", headers={"Accept-Language": "it"})) == ("it", "ltr")


def test_the_switcher_refuses_an_unknown_language_and_goes_back_only_to_this_site(client, auth):
    auth.login("rep1@example.com")
    response = client.post("/account/language", data={"language": "de", "next": "/leads/"})
    assert response.status_code == 400 and user("rep1@example.com").locale is None
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/account/language", data={"language": "it", "next": target})
        assert response.status_code == 303 and response.headers["Location"] == "/leads/", target
    response = client.post("/account/language", data={"language": "sv"},
                           headers={"Referer": "http://localhost/pipeline?x=1"})
    assert response.headers["Location"] == "/pipeline?x=1"
    assert user("rep1@example.com").locale == "sv"


def test_the_settings_page_shows_the_choice(client, auth):
    auth.login("rep1@example.com")
    client.post("/account/language", data={"language": "fa", "next": "/account"})
    html = client.get("/account").text
    assert re.search(r'<option[^>]*selected[^>]*value="fa"|<option[^>]*value="fa"[^>]*selected', html)
    assert "Svenska" in html and "فارسی" in html


def test_without_user_or_browser_choice_the_default_locale_applies(database_url, app):
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, BABEL_DEFAULT_LOCALE="it")
    try:
        assert page_lang(other.test_client().get("/login")) == ("it", "ltr")
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_background_mass_change_tells_its_starter_in_their_language(app, client, auth, manager, tmp_path):
    """The job runs in the starter's language: the bell notification and the email are Spanish
    even though the request that queued it came from a French browser."""
    from sqlalchemy import select

    from crm.models import Lead, Notification
    from tests.test_bulk import apply
    app.config.update(BULK_INLINE_LIMIT=5, MAIL_OUTBOX=str(tmp_path / "outbox.log"))
    manager.locale = "es"
    db.session.commit()
    lars = user("rep2@example.com")
    ours = db.session.scalars(select(Lead.id).where(Lead.team_id == manager.team_id, Lead.deleted_at.is_(None),
                                                    Lead.owner_id != lars.id).order_by(Lead.id).limit(8)).all()
    auth.login("manager@example.com")
    response = apply(client, headers={"HX-Request": "true", "Accept-Language": "fr"}, type="lead",
                     ids=",".join(map(str, ours)), action="reassign", confirm="REASIGNAR",
                     count=str(len(ours)), new_owner=f"user:{lars.id}")
    assert response.status_code == 200
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == manager.id)).all()
    assert note.text == f"Reasignó {len(ours)} leads a Lars Berg."
    mail = email.message_from_string((tmp_path / "outbox.log").read_text(encoding="utf-8"))
    assert mail["Subject"] == "Cambio masivo terminado"
    assert mail.get_payload(decode=True).decode().strip() == f"Reasignó {len(ours)} leads a Lars Berg."
