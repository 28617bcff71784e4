"""The "load more" endpoint of a kanban column: cards for htmx, the stage's list without it,
and a 404 for a stage that does not exist."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import Deal

HX = {"HX-Request": "true"}


def test_load_more_returns_the_cards_of_the_stage(client, auth):
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
    auth.login()
    page = client.get(f"/pipeline/stages/{deal.stage_id}/cards?offset=0", headers=HX)
    assert page.status_code == 200
    assert deal.title in page.get_data(as_text=True) and b"<html" not in page.data


def test_load_more_uses_the_pipeline_of_the_stage(client, auth):
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id))
    auth.login()
    page = client.get(f"/pipeline/stages/{deal.stage_id}/cards?pipeline=999", headers=HX)
    assert page.status_code == 200 and deal.title in page.get_data(as_text=True)


def test_without_htmx_load_more_goes_to_the_deals_of_the_stage(client, auth):
    auth.login()
    page = client.get("/pipeline/stages/1/cards?owner=me&offset=20")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/deals/?stage=1&owner=")


def test_an_unknown_stage_is_not_found(client, auth):
    auth.login()
    assert client.get("/pipeline/stages/999/cards").status_code == 404
    assert client.get("/pipeline/stages/999/cards", headers=HX).status_code == 404


def test_a_huge_offset_starts_at_the_first_card(client, auth):
    auth.login()
    page = client.get("/pipeline/stages/1/cards?offset=99999999999999999999999", headers=HX)
    first = client.get("/pipeline/stages/1/cards?offset=0", headers=HX)
    assert page.status_code == 200 and 'class="deal-card' in page.text and page.text == first.text
