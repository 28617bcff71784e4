"""CSV import: format detection, mapping memory, dry run equal to the real run, one batch, rejects."""
import csv
import io

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, HistoryEvent, Lead, Pool, PoolMember, User
from crm.models.pools import ImportJob

SALESFORCE = ("First Name,Last Name,Company,Email,Lead Owner,Lead Status\n"
              "Eva,Lind,Acme,eva@acme.com,Inbound EU,New\n"
              "Olle,Berg,Beta,olle@beta.com,Inbound EU,\n"
              "Bad,Mail,Gamma,not-an-email,,\n"
              "Nils,Holm,Delta,nils@delta.com,nobody@nowhere.com,\n"
              "=cmd|' /C calc'!A0,x,Evil,evil@evil.com,Ghost,\n"
              "Too,Few\n")


def uid(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def make_pool():
    pool = Pool(name="Inbound EU", record_type="lead",
                members=[PoolMember(user_id=uid("rep1@example.com"), position=0),
                         PoolMember(user_id=uid("rep2@example.com"), position=1)])
    db.session.add(pool)
    db.session.commit()
    return pool


def upload(client, text: str | bytes, name="leads.csv", record_type="lead"):
    data = text.encode() if isinstance(text, str) else text
    response = client.post("/import/", data={"record_type": record_type, "file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return db.session.get(ImportJob, response.location.rsplit("/", 1)[-1])


def run(client, imp, mode="run", **form):
    mapping = {f"col_{i}": v for i, v in imp.mapping.items()}
    response = client.post(f"/import/{imp.id}", data=mapping | {"mode": mode, "duplicates": "skip"} | form)
    assert response.status_code == 303
    db.session.expire_all()
    return db.session.get(ImportJob, imp.id).report


def test_salesforce_headers_map_themselves(client, auth, app):
    auth.login()
    imp = upload(client, SALESFORCE)
    assert (imp.delimiter, imp.row_count) == (",", 6)
    assert list(imp.mapping.values()) == ["person_name", "person_name", "company_name", "email", "owner", "status"]


def test_the_dry_run_reports_exactly_what_the_real_run_does(client, auth, app):
    make_pool()
    auth.login()
    imp = upload(client, SALESFORCE)
    before = db.session.scalar(select(func.count(Lead.id)))
    dry = run(client, imp, mode="dry")
    assert db.session.scalar(select(func.count(Lead.id))) == before
    assert db.session.scalar(select(Pool.cursor)) == 0
    real = run(client, imp)
    assert dry["counts"] == real["counts"] == {"create": 2, "update": 0, "skip": 0, "reject": 4}
    assert [r[0] for r in dry["reasons"]] == [r[0] for r in real["reasons"]] == [4, 5, 6, 7]


def test_a_pool_owner_column_spreads_rows_in_turn_in_one_batch(client, auth, app):
    make_pool()
    auth.login()
    imp = upload(client, SALESFORCE)
    report = run(client, imp)
    leads = db.session.scalars(select(Lead).where(Lead.email.in_(["eva@acme.com", "olle@beta.com"])).order_by(Lead.id)).all()
    assert [l.owner_id for l in leads] == [uid("rep1@example.com"), uid("rep2@example.com")]
    assert leads[0].person_name == "Eva Lind" and leads[0].status.name == "New"
    batch = db.session.get(Batch, report["batch_id"])
    assert (batch.action, batch.count) == ("import", 2)
    events = db.session.scalars(select(HistoryEvent.record_id).where(HistoryEvent.batch_id == batch.id,
                                                                     HistoryEvent.kind == "create")).all()
    assert sorted(events) == [l.id for l in leads]


def test_rejected_rows_download_with_an_error_column_and_neutralized_formulas(client, auth, app):
    make_pool()
    auth.login()
    imp = upload(client, SALESFORCE)
    run(client, imp)
    response = client.get(f"/import/{imp.id}/rejects.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][-1] == "error" and len(rows) == 5
    evil = next(r for r in rows if "calc" in r[0])
    assert evil[0].startswith("'=") and "Unknown owner “Ghost”" in evil[-1]
    assert "The row has 2 cells but the header has 6." in rows[-1][-1]
    assert "not an email address" in rows[1][-1]


def test_wrong_encoding_and_semicolons_are_detected(client, auth, app):
    auth.login()
    text = "Name;Email;City\nJörg Müller;jorg@mueller.de;Köln\nAnaïs Sébastien;anais@seb.fr;Besançon\n" * 20
    imp = upload(client, text.encode("cp1252"), record_type="contact")
    assert imp.delimiter == ";" and not imp.encoding.startswith("utf")
    report = run(client, imp, duplicates="create")
    assert report["counts"]["create"] == 40
    from crm.models import Contact
    assert db.session.scalar(select(Contact.city).where(Contact.email == "jorg@mueller.de").limit(1)) == "Köln"
    assert db.session.scalar(select(Contact.name).where(Contact.email == "anais@seb.fr").limit(1)) == "Anaïs Sébastien"


def test_duplicates_by_email_are_skipped_or_updated(client, auth, app):
    auth.login()
    existing = db.session.scalar(select(Lead).where(Lead.email != "").order_by(Lead.id))
    text = f"Title,Email,Phone\nUpdated title,{existing.email},+46 70 000\nNew one,new@one.com,\nTwin,new@one.com,\n"
    imp = upload(client, text)
    skipped = run(client, imp, mode="dry")
    assert skipped["counts"] == {"create": 1, "update": 0, "skip": 2, "reject": 0}
    updated = run(client, imp, duplicates="update")
    assert updated["counts"] == {"create": 1, "update": 1, "skip": 1, "reject": 0}
    db.session.refresh(existing)
    assert existing.title == "Updated title" and existing.phone == "+46 70 000"


def test_the_mapping_is_remembered_for_the_same_headers(client, auth, app):
    auth.login()
    imp = upload(client, "Col A,Col B\nx,a@b.com\n")
    assert list(imp.mapping.values()) == ["", ""]
    run(client, imp, mode="dry", col_0="title", col_1="email")
    again = upload(client, "Col A,Col B\ny,c@d.com\n")
    assert again.mapping == {"0": "title", "1": "email"}


def test_an_empty_or_binary_file_is_refused_with_a_message(client, auth, app):
    auth.login()
    for payload, message in ((b"", "The file is empty."), (b"\x00\x01\x02PK\x03\x04" * 50, "does not look like a CSV")):
        response = client.post("/import/", data={"record_type": "lead", "file": (io.BytesIO(payload), "x.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_reps_cannot_import(client, auth, app):
    auth.login("rep1@example.com")
    assert client.get("/import/").status_code == 403


def test_undo_on_the_batch_page_moves_the_imported_records_to_the_trash(client, auth, app):
    make_pool()
    auth.login()
    imp = upload(client, SALESFORCE)
    report = run(client, imp)
    page = client.get(f"/bulk/{report['batch_id']}").get_data(as_text=True)
    assert "Imported 2 leads from leads.csv." in page
    response = client.post(f"/bulk/{report['batch_id']}/undo")
    assert response.status_code == 303
    db.session.expire_all()
    leads = db.session.scalars(select(Lead).where(Lead.email.in_(["eva@acme.com", "olle@beta.com"]))).all()
    assert len(leads) == 2 and all(l.deleted_at is not None for l in leads)
    assert db.session.get(Batch, report["batch_id"]).undone_at is not None


def test_an_excel_workbook_imports_like_a_csv(client, auth, app, tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["Company", "Email", "Amount"])
    book.active.append(["Nordlicht AB", "info@nordlicht.se", 1200])
    book.save(tmp_path / "leads.xlsx")
    auth.login()
    imp = upload(client, (tmp_path / "leads.xlsx").read_bytes(), name="leads.xlsx")
    assert list(imp.mapping.values()) == ["company_name", "email", "value"]
    assert run(client, imp)["counts"]["create"] == 1
    lead = db.session.scalar(select(Lead).where(Lead.email == "info@nordlicht.se"))
    assert lead.title == "Nordlicht AB" and lead.value == 1200


def test_a_file_cannot_be_imported_twice_by_accident(client, auth, app):
    auth.login()
    imp = upload(client, "Title,Email\nOnce,once@only.com\n")
    run(client, imp)
    mapping = {f"col_{i}": v for i, v in imp.mapping.items()}
    response = client.post(f"/import/{imp.id}", data=mapping | {"mode": "run"})
    assert response.status_code == 409 and "already being imported or was imported" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.email == "once@only.com")) == 1
