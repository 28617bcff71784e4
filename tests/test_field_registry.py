"""The field registry (crm/services/record_types.py) is the one description of every field: forms,
list columns, the API, import mapping, the merge panel and the duplicate check all follow it."""
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Deal, Lead, Stage
from crm.models.pools import ImportJob
from crm.services.fields import api_fields, fields_of, importable_fields, merge_fields
from crm.services.merge import fields_for
from crm.services.record_types import RECORD_TYPES
from crm.services.territories import territory_values
from tests.test_api import bearer

ROOT = Path(__file__).resolve().parents[1]

# The whole change that adds a field: its column, and one entry in the registry.
ADDED_COLUMN = ('    tags: Mapped[str] = mapped_column(String(400), default="")\n',
                '    nickname: Mapped[str] = mapped_column(String(40), default="")\n')
ADDED_FIELD = ('    _source(sortable=True, listed=4),\n    _value(listed=6),\n',
               '    Field("nickname", _l("Nickname"), sortable=True, listed=8, aliases=("nick",)),\n')

ADDED_FIELD_TEST = '''
"""Runs in a copy of the app whose registry has one more lead field: "nickname"."""
import io

from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead
from crm.models.pools import ImportJob
from tests.test_api import bearer


def lead(title):
    return db.session.scalar(select(Lead).where(Lead.title == title))


def test_a_field_added_to_the_registry_is_everywhere(client, auth, admin):
    auth.login()
    form = client.get("/leads/new").get_data(as_text=True)
    assert 'name="nickname"' in form and ">Nickname</label>" in form
    client.post("/leads/new", data={"title": "From the form", "nickname": "Formy", "owner": "", "status": ""})
    assert lead("From the form").nickname == "Formy"
    assert "Formy" in client.get(f"/leads/{lead('From the form').id}").get_data(as_text=True)

    listing = client.get("/leads/?sort=-nickname").get_data(as_text=True)
    assert ">Nickname" in listing and '<td data-label="Nickname">Formy</td>' in listing

    created = client.post("/api/leads", json={"title": "From the API", "nickname": "Apy"}, headers=bearer(admin))
    assert created.status_code == 201 and created.json["nickname"] == "Apy"
    assert lead("From the API").nickname == "Apy"
    too_long = client.post("/api/leads", json={"title": "Too long", "nickname": "x" * 41}, headers=bearer(admin))
    assert too_long.status_code == 422 and lead("Too long") is None
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert all("nickname" in schemas[name]["properties"] for name in ("Lead", "LeadCreate", "LeadPatch"))
    created = client.post("/api/v1/leads", json={"title": "From API v1", "nickname": "Vee"}, headers=bearer(admin))
    assert created.status_code == 201 and created.json["nickname"] == "Vee"

    upload = client.post("/import/", data={"record_type": "lead", "file": (io.BytesIO(
        b"Title,Nick\\nFrom the file,Csvy\\n"), "leads.csv")}, content_type="multipart/form-data")
    imp = db.session.get(ImportJob, upload.location.rsplit("/", 1)[-1])
    assert imp.mapping == {"0": "title", "1": "nickname"}
    assert "Nickname" in client.get(f"/import/{imp.id}").get_data(as_text=True)
    client.post(f"/import/{imp.id}", data={"col_0": "title", "col_1": "nickname", "mode": "run",
                                          "duplicates": "create"})
    assert lead("From the file").nickname == "Csvy"

    exported = client.get("/leads/export?format=csv&q=From the file").get_data(as_text=True).lstrip("\ufeff")
    header, row = exported.splitlines()[:2]
    assert "Nickname" in header.split(",") and "Csvy" in row.split(",")

    a, b = lead("From the form"), lead("From the API")
    panel = client.get(f"/leads/merge?ids={a.id},{b.id}").get_data(as_text=True)
    assert "Nickname" in panel and 'name="pick_nickname"' in panel
    client.post("/leads/merge", data={"ids": f"{a.id},{b.id}", "survivor": a.id, "pick_nickname": b.id})
    db.session.expire_all()
    assert db.session.get(Lead, a.id).nickname == "Apy"
'''


def _copy_with_added_field(target: Path) -> None:
    """The app as it is, plus the one change that adds a field."""
    for name in ("crm", "templates", "tests"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for path, (anchor, added) in ((target / "crm/models/records.py", ADDED_COLUMN),
                                  (target / "crm/services/record_types.py", ADDED_FIELD)):
        text = path.read_text()
        assert text.count(anchor) == 1, f"the registry test's anchor moved in {path.name}: update ADDED_*"
        path.write_text(text.replace(anchor, anchor + added))
    (target / "tests/test_added_field.py").write_text(ADDED_FIELD_TEST)


def test_adding_a_field_is_one_change_in_the_registry(tmp_path):
    """Adds a lead field in a copy of the app and sees it in the form, list, API (and its OpenAPI
    schema), import, export and merge."""
    _copy_with_added_field(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                             "tests/test_added_field.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


@pytest.mark.parametrize("rtype", RECORD_TYPES.values(), ids=lambda t: t.name)
def test_every_registry_field_is_stored_on_the_model(rtype):
    columns = set(rtype.model.__table__.c.keys())
    for f in rtype.fields:
        assert f.attr in columns or f.attr in rtype.model.__mapper__.relationships, f.name
        assert set(f.companions) <= columns
        assert f.relation == "" or f.relation in rtype.model.__mapper__.relationships, f.name


def test_the_derived_views_follow_the_registry(app):
    lead = RECORD_TYPES["lead"]
    assert [f.name for f in lead.columns] == ["title", "person_name", "status", "owner", "source", "city", "value",
                                              "created_at", "score"]
    assert lead.search_columns == ("title", "person_name", "company_name", "email", "phone")
    assert {"lat", "lng", "address"} <= {f.name for f in importable_fields(db.session, lead)}
    assert "address" in {f.name for f in api_fields(db.session, lead)}
    assert [row.name for row in fields_for(db.session, RECORD_TYPES["deal"])][:3] == ["title", "value", "stage"]
    assert {f.name for f in merge_fields(db.session, lead)} >= {"tags", "description", "status"}
    assert all(f.name != "owner" for f in merge_fields(db.session, lead))  # the salesperson is chosen apart


def test_custom_fields_join_the_registry(app, client, auth):
    from crm.models import CustomField
    db.session.add(CustomField(record_type="lead", key="fleet", label="Fleet size", kind="number"))
    db.session.commit()
    assert "custom.fleet" in {f.name for f in fields_of(db.session, RECORD_TYPES["lead"])}
    auth.login()
    assert 'name="cf_fleet"' in client.get("/leads/new").get_data(as_text=True)
    assert "Fleet size" in client.get("/leads/1").get_data(as_text=True)


def test_the_api_sets_what_it_could_not_before(client, admin):
    """Address (leads), status by name, and a deal's expected close date go through the registry's parsers."""
    response = client.post("/api/leads", json={"title": "Addressed", "address": "Storgatan 1", "status": "Qualified",
                                               "lat": 59.3, "lng": 18.1}, headers=bearer(admin))
    assert response.status_code == 201, response.json
    lead = db.session.get(Lead, response.json["id"])
    assert (lead.address, lead.status.name, lead.lat) == ("Storgatan 1", "Qualified", 59.3)
    stage = db.session.scalar(select(Stage).limit(1))
    response = client.post("/api/deals", json={"title": "Dated", "stage": stage.id, "expected_close": "2027-03-01",
                                               "currency": "sek"}, headers=bearer(admin))
    assert response.status_code == 201, response.json
    deal = db.session.get(Deal, response.json["id"])
    assert (deal.expected_close.isoformat(), deal.currency) == ("2027-03-01", "SEK")


@pytest.mark.parametrize("payload, message", [
    ({"title": "x", "lat": 95}, "Latitude must be between"),
    ({"title": "x", "status": "Nonsense"}, "Unknown lead status"),
    ({"title": "x", "value": "lots"}, "is not a number"),
    ({"title": "x", "email": "not-an-email"}, "is not an email address"),
])
def test_the_api_refuses_values_that_do_not_fit_their_field(client, admin, payload, message):
    before = db.session.scalar(select(db.func.count(Lead.id)))
    response = client.post("/api/leads", json=payload, headers=bearer(admin))
    assert response.status_code == 422 and message in response.json["error"]
    assert db.session.scalar(select(db.func.count(Lead.id))) == before


def test_import_maps_and_parses_coordinates_and_close_dates(client, auth):
    auth.login()
    upload = client.post("/import/", data={"record_type": "deal", "file": (io.BytesIO(
        b"Deal Name,Latitude,Longitude,Close Date\nMapped deal,57.71,11.97,2027-05-01\n"), "deals.csv")},
        content_type="multipart/form-data")
    imp = db.session.get(ImportJob, upload.location.rsplit("/", 1)[-1])
    assert list(imp.mapping.values()) == ["title", "lat", "lng", "expected_close"]
    client.post(f"/import/{imp.id}", data={f"col_{i}": v for i, v in imp.mapping.items()}
                | {"mode": "run", "duplicates": "create"})
    deal = db.session.scalar(select(Deal).where(Deal.title == "Mapped deal"))
    assert (deal.lat, deal.lng, deal.expected_close.isoformat()) == (57.71, 11.97, "2027-05-01")
    assert deal.stage_id is not None  # a new deal without a stage column starts in the first stage
    expected = territory_values(db.session, {"lat": 57.71, "lng": 11.97})["territory_id"]
    assert expected is not None and deal.territory_id == expected
