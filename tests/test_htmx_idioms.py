"""htmx the hypermedia way: out-of-band blocks of one template, hx-get instead of hand-made fetches,
parts that listen for "records-changed", and templates that read flags instead of asking permissions."""
import re
from pathlib import Path

from sqlalchemy import select

from crm.extensions import db
from crm.models import Deal, Lead, Note
from tests.test_bulk import apply

ROOT = Path(__file__).resolve().parents[1]
HTMX = {"HX-Request": "true"}


def test_a_note_answers_with_the_side_column_and_the_timeline_out_of_band(client, auth):
    auth.login()
    response = client.post("/leads/1/notes", data={"body": "Called, call back Friday"}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert db.session.scalar(select(Note).where(Note.lead_id == 1, Note.body == "Called, call back Friday"))
    assert body.count('id="timeline"') == 1 and re.search(r'id="timeline"[^>]*hx-swap-oob="true"', body)
    assert "Called, call back Friday" in body


def test_a_mass_change_tells_the_list_to_reload_itself(client, auth):
    auth.login()
    listing = client.get("/leads/?source=Referral").get_data(as_text=True)
    assert re.search(r'id="record-rows"[^>]*hx-get="/leads/\?source=Referral"[^>]*'
                     r'hx-trigger="records-changed from:document"', listing)
    ids = db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).limit(2)).all()
    response = apply(client, headers=HTMX, type="lead", ids=",".join(map(str, ids)), action="delete", count="2",
                     confirm="DELETE")
    assert response.headers.get("HX-Trigger") == "records-changed"
    assert all(db.session.get(Lead, i).deleted_at is not None for i in ids)


def test_dialogs_load_with_hx_get_and_no_script_writes_html():
    """Convert opens its dialog with hx-get; no JS assigns HTML strings or fakes htmx's headers."""
    actions = (ROOT / "templates/leads/_record_actions.html").read_text()
    assert 'hx-target="#convert-dialog"' in actions and "data-open-dialog" not in actions
    for script in (ROOT / "static/js").glob("*.js"):
        text = script.read_text()
        assert not re.search(r"innerHTML|outerHTML\s*=|insertAdjacentHTML", text), script.name
        assert "HX-Request" not in text, script.name


def test_the_convert_dialog_is_a_fragment_for_htmx(client, auth):
    auth.login()
    body = client.get("/leads/1/convert", headers=HTMX).get_data(as_text=True)
    assert 'id="convert-form"' in body and "<html" not in body


def test_templates_read_what_the_view_offers(client, auth, rep):
    """A rep without the conversion permission gets neither "Select all" nor "Mass change" on deals;
    with it, "Select all" and "Convert to lead"; an admin gets everything."""
    rep.can_convert_deals = False
    db.session.commit()
    auth.login("rep1@example.com")
    page = client.get("/deals/").get_data(as_text=True)
    assert "data-select-all" not in page and "Mass change" not in page and "Convert to lead" not in page
    rep.can_convert_deals = True
    db.session.commit()
    page = client.get("/deals/").get_data(as_text=True)
    assert "data-select-all" in page and "Mass change" not in page and "Convert to lead" in page
    auth.logout()
    auth.login()
    page = client.get("/deals/").get_data(as_text=True)
    assert "data-select-all" in page and "Mass change" in page and "Convert to lead" in page
    deal = db.session.scalar(select(Deal).where(Deal.deleted_at.is_(None)))
    assert "Convert to lead" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    templates = "\n".join(p.read_text() for p in (ROOT / "templates").rglob("*.html"))
    assert "bulk_allowed" not in templates and "deal_conversion_allowed" not in templates


def test_htmx_flask_reads_the_request(app):
    assert "htmx" in app.extensions
    with app.test_request_context(headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        from flask import request
        from crm.rendering import wants_fragment
        assert request.htmx and not wants_fragment()  # a history restore gets the whole page
