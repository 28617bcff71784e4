"""Odd input from the security campaign (issue 11, item 8): every case is a 4xx or a page saying
what was wrong, never a 500, and nothing changes. One parser (crm/params.py) reads them all."""
import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Deal, HistoryEvent, Lead, Note, Team, Territory
from crm.params import to_date, to_id, to_ids, to_int

BIG = "99999999999"  # past 32 bits
ODD_DIGITS = ["²", "①", "٣", "１"]  # pass str.isdigit(), not int() (or not ASCII)


def fingerprint() -> tuple:
    db.session.expire_all()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Lead, Deal, Note, HistoryEvent, Batch, Territory)) + (
        tuple(db.session.execute(select(Lead.id, Lead.owner_id, Lead.status_id, Lead.deleted_at).order_by(Lead.id))),
        tuple(db.session.execute(select(Team.id, Team.leads_enabled).order_by(Team.id))))


@pytest.mark.parametrize("raw,expected", [
    ("12", 12), (" 7 ", 7), ("0", None), ("", None), (None, None), ("-3", None), ("+3", None), ("1.0", None),
    (BIG, None), (str(2**31 - 1), 2**31 - 1), (str(2**31), None), ("9" * 5000, None), ("1\x00", None),
    *[(d, None) for d in ODD_DIGITS], ("1e3", None), ("0x10", None)])
def test_ids_are_ascii_digits_within_the_column(raw, expected):
    assert to_id(raw) == expected


def test_the_parser_reads_numbers_lists_and_dates_in_one_way():
    assert to_int("0") == 0 and to_int("200", low=1, high=200) == 200 and to_int("201", high=200) is None
    assert to_ids(["1,2", " 3 "]) == [1, 2, 3] and to_ids(["1,²"]) is None and to_ids([]) == []
    assert str(to_date("2026-02-28")) == "2026-02-28"
    assert to_date("9999-12-31") is None and to_date("0001-01-01") is None and to_date("2026-2-28") is None
    assert str(to_date("20260228")) == "2026-02-28" and to_date("2026-02-30") is None


GETS = [
    ("/leads/?owner=" + BIG, 200), ("/leads/?status=" + BIG, 200), ("/deals/?stage=" + BIG, 200),
    ("/leads/?territory=" + BIG, 200), ("/deals/?pipeline=" + BIG, 200), ("/leads/?ids=" + BIG, 200),
    ("/leads/?created_to=9999-12-31", 200), ("/leads/?created_from=0001-01-01", 200),
    ("/api/leads?status=" + BIG, 200), ("/activity?actor=" + BIG, 200), ("/leads/?page=" + "9" * 5000, 200),
    ("/leads/?per_page=" + "9" * 5000, 200), ("/leads/?page=" + "9" * 100, 200), ("/bulk/drawer?type=lead&all=1&new_stage=" + BIG, 200),
    ("/pipeline/stages/1/cards?offset=" + "9" * 5000, 303),
] + [(f"/leads/?{name}={d}", 200) for d in ODD_DIGITS for name in ("owner", "status", "per_page", "page")] + [
    (f"/activity?actor={d}", 200) for d in ODD_DIGITS] + [(f"/api/leads?status={d}", 200) for d in ODD_DIGITS] + [
    (f"/bulk/drawer?type=lead&all=1&new_stage={d}", 200) for d in ODD_DIGITS] + [
    (f"/leads/merge?ids=1,{d}", 409) for d in ODD_DIGITS]


@pytest.mark.parametrize("url,status", GETS)
def test_odd_values_in_urls_never_give_a_500(client, auth, url, status):
    auth.login()
    response = client.get(url)
    assert response.status_code in (status, 400, 409, 422), response.status_code
    assert response.status_code < 500


def test_a_filter_with_an_absurd_value_says_so_and_matches_nothing(client, auth):
    auth.login()
    page = client.get("/leads/?owner=" + BIG).text
    assert f"Unknown owner &#39;{BIG}&#39;" in page or "Unknown owner" in page
    page = client.get("/leads/?created_to=9999-12-31").text
    assert "is not a date" in page


def lead_of_rep() -> Lead:
    return db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None), Lead.converted_at.is_(None))
                              .order_by(Lead.id)).first()


def posts():
    lead = lead_of_rep()
    deal = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id)).first()
    odd = ODD_DIGITS[0]
    return [
        ("/bulk/apply", {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN", "count": odd,
                         "new_owner": "user:1"}),
        ("/bulk/apply", {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN", "count": "9" * 5000,
                         "new_owner": "user:1"}),
        ("/bulk/apply", {"type": "lead", "all": "1", "action": "change", "confirm": "CHANGE", "count": "1", "new_stage": odd}),
        ("/bulk/apply", {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN", "count": "1",
                         "new_owner": f"user:{odd}"}),
        ("/bulk/apply", {"type": "lead", "all": "1", "action": "reassign", "confirm": "REASSIGN", "count": "1",
                         "new_owner": f"user:{BIG}"}),
        ("/bulk/apply", {"type": "lead", "all": "1", "skip_owner": odd, "action": "delete", "confirm": "DELETE", "count": "1"}),
        ("/leads/merge", {"ids": f"{lead.id},{odd}", "survivor": str(lead.id)}),
        ("/leads/merge", {"ids": f"{lead.id},{lead.id + 1}", "survivor": str(lead.id), "team": odd}),
        ("/leads/merge", {"ids": f"{lead.id},{lead.id + 1}", "survivor": str(lead.id), "owner": f"user:{BIG}"}),
        (f"/leads/{lead.id}/convert", {"customer": "existing", "contact": odd, "owner": "user:1"}),
        (f"/leads/{lead.id}/convert", {"customer": "existing", "contact": BIG, "owner": "user:1"}),
        ("/map/territories", {"name": "Odd", "owner": odd, "outline": "[[0,0],[0,1],[1,1]]"}),
        ("/map/territories", {"name": "Odd", "owner": BIG, "outline": "[[0,0],[0,1],[1,1]]"}),
        ("/admin/leads-setting", {"team": odd, "enabled": "0"}),
        ("/admin/leads-setting", {"team": BIG, "enabled": "0"}),
        ("/trash/restore", {"type": "lead", "id": odd}),
        ("/trash/restore", {"type": "lead", "id": BIG}),
        (f"/pipeline/deals/{deal.id}/move", {"to": f"stage:{odd}"}),
        (f"/pipeline/deals/{deal.id}/move", {"to": f"stage:{BIG}"}),
        (f"/leads/{lead.id}/notes", {"body": "hello\x00world"}),
        (f"/leads/{lead.id}/edit", {"title": "T\x00", "owner": "user:1"}),
    ]


def test_odd_values_in_forms_never_give_a_500_and_change_nothing(client, auth):
    auth.login()
    for url, data in posts():
        before = fingerprint()
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, data, response.status_code)
        assert fingerprint() == before, (url, data)


@pytest.mark.parametrize("url", ["/leads/?q=a%00b", "/leads/?source=x%00", "/deals/?q=%00", "/api/leads?q=%00"])
def test_a_nul_character_is_refused_with_a_message(client, auth, url):
    auth.login()
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL character" in response.text


def test_a_nul_in_a_note_is_refused_and_stores_nothing(client, auth):
    lead = lead_of_rep()
    auth.login()
    notes = db.session.scalar(select(func.count(Note.id)))
    response = client.post(f"/leads/{lead.id}/notes", data={"body": "call\x00back"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Note.id))) == notes


def test_a_nul_in_api_json_is_refused(client, app):
    from crm.services.api_tokens import issue_token
    from tests.conftest import user
    token = issue_token(db.session, user("admin@example.com"))
    db.session.commit()
    response = client.post("/api/leads", json={"title": "x\x00"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.title.like("x%"))) == 0


def test_a_huge_field_is_never_echoed_into_a_redirect_header(client, auth):
    deal = db.session.scalars(select(Deal).where(Deal.deleted_at.is_(None)).order_by(Deal.id)).first()
    auth.login()
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "stage:1", "q": "x" * 70_000})
    assert response.status_code == 303
    assert len(response.headers["Location"]) < 4000
    response = client.post(f"/pipeline/deals/{deal.id}/move", data={"to": "stage:1", "source": ["y" * 3000] * 20})
    assert len(response.headers["Location"]) < 4000
