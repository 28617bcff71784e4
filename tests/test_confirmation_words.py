"""Typed confirmation words in the user's language: shown in the drawer, checked by the server."""
import html

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Lead
from crm.services.bulk import confirmed
from tests.conftest import user
from tests.test_bulk import apply, uid

LABELS = {"en": "Type REASSIGN to confirm", "es": "Escriba REASIGNAR para confirmar",
          "it": "Digita RIASSEGNA per confermare", "fr": "Tapez RÉASSIGNER pour confirmer",
          "sv": "Skriv OMFÖRDELA för att bekräfta", "fa": "برای تأیید تخصیص را بنویسید"}
WORDS = {"en": "REASSIGN", "es": "REASIGNAR", "it": "RIASSEGNA", "fr": "RÉASSIGNER", "sv": "OMFÖRDELA",
         "fa": "تخصیص"}


def speak(client, auth, code: str) -> None:
    auth.login()
    client.post("/account/language", data={"language": code, "next": "/"})
    assert user("admin@example.com").locale == code


@pytest.mark.parametrize("code", ["es", "it", "fr", "sv", "fa"])
def test_the_drawer_asks_for_the_word_of_the_users_language_and_the_server_takes_it(app, client, auth, code):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    speak(client, auth, code)
    drawer = html.unescape(client.get("/bulk/drawer", query_string={"type": "lead", "all": "1", "owner": ana}).text)
    assert LABELS[code] in drawer and f'data-confirm-word="{WORDS[code]}"' in drawer
    theirs = db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == ana, Lead.deleted_at.is_(None)))
    response = apply(client, type="lead", all="1", owner=str(ana), action="reassign", confirm=WORDS[code],
                     count=str(theirs), new_owner=f"user:{lars}")
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == ana, Lead.deleted_at.is_(None))) == 0


def test_the_english_word_is_accepted_in_every_language_and_a_wrong_word_is_refused_in_spanish(app, client, auth):
    ana, lars = uid("rep1@example.com"), uid("rep2@example.com")
    speak(client, auth, "es")
    theirs = db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == ana, Lead.deleted_at.is_(None)))
    refused = apply(client, headers={"HX-Request": "true"}, type="lead", all="1", owner=str(ana),
                    action="reassign", confirm="REASIGNA", count=str(theirs), new_owner=f"user:{lars}")
    assert refused.status_code == 422
    assert "Escriba REASIGNAR para confirmar (escribió «REASIGNA»). No se ha cambiado nada." in html.unescape(refused.text)
    assert db.session.scalar(select(func.count(Batch.id))) == 0
    done = apply(client, type="lead", all="1", owner=str(ana), action="reassign", confirm="REASSIGN",
                 count=str(theirs), new_owner=f"user:{lars}")
    assert done.status_code == 303 and db.session.scalar(select(func.count(Batch.id))) == 1


def test_confirmation_words_ignore_how_the_keyboard_composes_letters(app):
    from flask_babel import force_locale
    with app.test_request_context():
        with force_locale("fr"):
            assert confirmed("reassign", "RE\u0301ASSIGNER ")  # É typed as E + combining accent
            assert not confirmed("reassign", "réassigner") and not confirmed("reassign", "DELETE")
        with force_locale("fa"):
            assert confirmed("delete", "حذف") and confirmed("reassign", "تخصيص")  # Arabic yeh
        assert not confirmed("nonsense", "REASSIGN")
