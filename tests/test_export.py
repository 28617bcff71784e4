"""Export: the list's filter as CSV or XLSX in the importer's columns, custom fields included,
formula-like cells neutralized; the importer reads the file back to the same records."""
import csv
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import CustomField, Lead
from crm.services import export
from crm.services.filters import filtered_select, parse_filter
from crm.services.record_types import LEAD
from tests.conftest import user


def test_a_filtered_csv_export_has_the_importers_columns_and_only_visible_matching_rows(client, auth, rep):
    db.session.add(CustomField(record_type="lead", key="budget", label="Budget", kind="number"))
    lead = db.session.scalar(select(Lead).where(Lead.owner_id == rep.id, Lead.deleted_at.is_(None)).limit(1))
    lead.title, lead.custom = "=HYPERLINK(\"http://evil\")", {"budget": 12}
    db.session.commit()
    auth.login("rep1@example.com")
    response = client.get("/leads/export?format=csv&owner=me")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    mine = db.session.scalar(select(func.count(Lead.id)).where(Lead.owner_id == rep.id, Lead.deleted_at.is_(None)))
    assert len(rows) == mine
    assert {"Title", "Status", "Owner", "Email", "Budget"} <= set(rows[0])
    assert {r["Owner"] for r in rows} == {rep.name}
    row = next(r for r in rows if r["Title"].startswith("'"))
    assert row["Title"] == "'=HYPERLINK(\"http://evil\")" and row["Budget"] == "12"


def test_an_xlsx_export_holds_the_same_rows(client, auth):
    auth.login("admin@example.com")
    response = client.get("/leads/export?format=xlsx&q=a")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    viewer = user("admin@example.com")
    flt = parse_filter(db.session, LEAD, _Args(q="a"), viewer)
    assert len(values) - 1 == db.session.scalar(select(func.count()).select_from(
        filtered_select(LEAD, flt, viewer).subquery()))
    assert values[0][0] == "Title"


def test_bad_export_arguments_are_a_400(client, auth):
    auth.login("admin@example.com")
    assert client.get("/leads/export?format=pdf").status_code == 400
    assert client.get("/leads/export?created_from=soon").status_code == 400


def test_the_exported_headers_map_back_to_their_fields_in_the_importer(app):
    from crm.services.fields import alias_index, importable_fields, normalize
    index = alias_index(importable_fields(db.session, LEAD))
    for header, field in export.columns(db.session, LEAD):
        if field.importable:
            assert index[normalize(header)] == field.name, header


class _Args(dict):
    """request.args for the filter builder."""

    def __init__(self, **values):
        super().__init__({k: [v] for k, v in values.items()})

    def getlist(self, key):
        return self.get(key, [])


def test_an_exported_list_imports_back_into_the_same_records(client, auth):
    from tests import import_steps
    auth.login("admin@example.com")
    source = db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(5)).all()
    ids = ",".join(str(lead.id) for lead in source)
    text = client.get(f"/leads/export?format=csv&ids={ids}").get_data(as_text=True)
    expected = sorted((lead.title, lead.email, lead.status_id, lead.owner_id, lead.city) for lead in source)
    db.session.execute(Lead.__table__.delete().where(Lead.id.in_([lead.id for lead in source])))
    db.session.commit()
    imp = import_steps.upload(client, text.encode("utf-8-sig"))
    report = import_steps.run(client, imp)
    assert report["counts"]["create"] == 5, repr(report)
    back = db.session.scalars(select(Lead).where(Lead.title.in_([t for t, *_ in expected]))).all()
    assert sorted((lead.title, lead.email, lead.status_id, lead.owner_id, lead.city) for lead in back) == expected
