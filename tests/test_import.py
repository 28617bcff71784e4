"""CSV import: format detection, mapping memory, dry run equal to the real run, one batch, rejects."""
import csv
import io

from sqlalchemy import func, select

from decimal import Decimal

import pytest

from crm.extensions import db
from crm.models import Batch, HistoryEvent, Lead, LeadStatus, Pool, User
from crm.services.editing import update_record
from crm.services.trash import undo_batch, undo_state
from tests.import_steps import make_pool, run, uid, upload

SALESFORCE = ("First Name,Last Name,Company,Email,Lead Owner,Lead Status\n"
              "Eva,Lind,Acme,eva@acme.com,Inbound EU,New\n"
              "Olle,Berg,Beta,olle@beta.com,Inbound EU,\n"
              "Bad,Mail,Gamma,not-an-email,,\n"
              "Nils,Holm,Delta,nils@delta.com,nobody@nowhere.com,\n"
              "=cmd|' /C calc'!A0,x,Evil,evil@evil.com,Ghost,\n"
              "Too,Few\n")


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


def test_the_rejects_file_keeps_the_error_column_last_and_aligned_for_short_and_long_rows(client, auth, app):
    auth.login()
    imp = upload(client, "Title,Email,Phone\nShort only\nLong,long@x.com,+46,extra,more\n,missing@title.com,\n")
    run(client, imp)
    rows = list(csv.reader(io.StringIO(client.get(f"/import/{imp.id}/rejects.csv").get_data(as_text=True))))
    assert rows[0] == ["Title", "Email", "Phone", "", "", "error"]
    assert {len(r) for r in rows} == {6}
    assert rows[1][:3] == ["Short only", "", ""] and "1 cells but the header has 3" in rows[1][-1]
    assert rows[2][:5] == ["Long", "long@x.com", "'+46", "extra", "more"] and "5 cells" in rows[2][-1]
    assert rows[3][1] == "missing@title.com" and "no title" in rows[3][-1]


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


SHORT_LATIN = "Name;Email;Company\nJosé Müller;jose@example.com;Café GmbH\n"


@pytest.mark.parametrize("data, encoding", [
    (SHORT_LATIN.encode("latin-1"), "cp1252"),
    (SHORT_LATIN.encode("cp1252"), "cp1252"),
    ("Name;Email\nJosé;jose@example.com\nRené – Büro;rene@example.com\n".encode("cp1252"), "cp1252"),
    (SHORT_LATIN.encode("utf-8"), "utf_8"),
    (SHORT_LATIN.encode("utf-8-sig"), "utf_8_sig"),
    (SHORT_LATIN.encode("utf-16"), "utf_16"),
    (SHORT_LATIN.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf_16"),
    ("Имя;Почта\nИван Петров;ivan@example.ru\nМария Иванова;maria@example.ru\n".encode("cp1251"), "cp1251"),
])
def test_detection_reads_utf8_bom_files_and_western_windows_exports(tmp_path, data, encoding):
    from crm.services.importing import detect
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    fmt = detect(path)
    assert fmt.encoding == encoding
    assert fmt.delimiter == ";" and fmt.headers[0] in ("Name", "Имя")


def test_detection_keeps_utf8_when_the_sample_ends_inside_a_character(tmp_path, monkeypatch):
    from crm.services.importing import detect, reading
    monkeypatch.setattr(reading, "SAMPLE", 45)
    path = tmp_path / "file.csv"
    path.write_bytes(("Name;Email\n" + "Jösé Müller;jose@example.com\n" * 3).encode())
    assert detect(path).encoding == "utf_8"


def test_a_short_latin1_file_imports_its_accents_intact(client, auth, app):
    auth.login()
    imp = upload(client, SHORT_LATIN.encode("latin-1"), record_type="contact")
    run(client, imp, duplicates="create")
    from crm.models import Contact
    assert db.session.scalar(select(Contact.name).where(Contact.email == "jose@example.com")) == "José Müller"


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
    assert "Admin imported 2 leads from leads.csv." in page
    response = client.post(f"/bulk/{report['batch_id']}/undo")
    assert response.status_code == 303
    db.session.expire_all()
    leads = db.session.scalars(select(Lead).where(Lead.email.in_(["eva@acme.com", "olle@beta.com"]))).all()
    assert len(leads) == 2 and all(l.deleted_at is not None for l in leads)
    assert db.session.get(Batch, report["batch_id"]).undone_at is not None


def known_leads(*emails: str) -> list[int]:
    """The first leads, given these emails and known values an import can then overwrite."""
    new = db.session.scalar(select(LeadStatus.id).where(LeadStatus.name == "New"))
    leads = db.session.scalars(select(Lead).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(len(emails))).all()
    for lead, email in zip(leads, emails):
        lead.email, lead.phone, lead.value, lead.status_id = email, "", Decimal("500.00"), new
        lead.owner_id, lead.team_id = uid("rep1@example.com"), db.session.get(User, uid("rep1@example.com")).team_id
    db.session.commit()
    return [lead.id for lead in leads]


def lead_values(lead_id: int) -> tuple:
    lead = db.session.get(Lead, lead_id)
    return lead.title, lead.phone, lead.value, lead.status_id, lead.owner_id, lead.team_id, lead.deleted_at


def import_updates(client, rows: str) -> str:
    """Run an import with the duplicate policy "update"; return its batch id."""
    imp = upload(client, "Title,Email,Phone,Value,Lead Status,Lead Owner\n" + rows)
    report = run(client, imp, duplicates="update")
    assert report["counts"]["reject"] == 0, report["reasons"]
    return report["batch_id"]


def test_undo_of_an_import_puts_updated_fields_back_and_trashes_created_records(client, auth, app):
    [old] = known_leads("old@lead.com")
    before = lead_values(old)
    auth.login()
    batch_id = import_updates(client, "Renamed,old@lead.com,+46 70 000,1200,Contacted,rep4@example.com\n"
                                      "Brand new,brand@new.com,,,,\n")
    db.session.expire_all()
    imported = lead_values(old)
    assert imported[:4] == ("Renamed", "+46 70 000", 1200, db.session.scalar(
        select(LeadStatus.id).where(LeadStatus.name == "Contacted")))
    assert imported[4:6] == (uid("rep4@example.com"), db.session.get(User, uid("rep4@example.com")).team_id)
    page = client.get(f"/bulk/{batch_id}").text
    assert "the records it updated get their previous values back" in page

    response = client.post(f"/bulk/{batch_id}/undo", follow_redirects=True)
    assert "moved the 1 lead it created to the trash and put the 1 lead it updated back as before" in response.text
    db.session.expire_all()
    assert lead_values(old) == before and before[1] == "" and before[2] == Decimal("500.00")
    assert db.session.scalar(select(Lead.deleted_at).where(Lead.email == "brand@new.com")) is not None
    undo = db.session.scalar(select(Batch).where(Batch.action == "undo"))
    assert undo.count == 2 and undo.params == {"undoes": batch_id}
    fields = db.session.scalars(select(HistoryEvent.field).where(HistoryEvent.batch_id == undo.id,
                                                                 HistoryEvent.record_id == old)).all()
    assert sorted(fields) == ["owner_id", "phone", "status_id", "team_id", "title", "value"]


@pytest.mark.parametrize("include_changed", [False, True])
def test_undo_of_an_import_leaves_a_record_edited_since_alone_unless_included(client, auth, app, admin,
                                                                              include_changed):
    edited, other = known_leads("edited@lead.com", "other@lead.com")
    titles = {i: db.session.get(Lead, i).title for i in (edited, other)}
    auth.login()
    batch_id = import_updates(client, "Imported A,edited@lead.com,,,,\nImported B,other@lead.com,,,,\n"
                                      "Brand new,brand@new.com,,,,\n")
    update_record(db.session, db.session.get(Lead, edited), {"title": "Edited since"}, admin)
    update_record(db.session, db.session.get(Lead, other), {"phone": "+1 555"}, admin)  # a field the import left alone
    db.session.commit()
    state = undo_state(db.session, db.session.get(Batch, batch_id), admin)
    assert (state.records, state.changed_since) == (3, 1)

    outcome = undo_batch(db.session, batch_id, admin, include_changed=include_changed)
    db.session.commit()
    assert db.session.get(Lead, other).title == titles[other]
    assert db.session.get(Lead, edited).title == (titles[edited] if include_changed else "Edited since")
    assert db.session.scalar(select(Lead.deleted_at).where(Lead.email == "brand@new.com")) is not None
    updated = 2 if include_changed else 1
    assert (f"put the {updated} lead{'s' if updated != 1 else ''} it updated back as before") in outcome.message
    assert ("1 lead changed again since and was left alone" in outcome.message) is not include_changed


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
    assert response.status_code == 409 and "This file was imported already" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.email == "once@only.com")) == 1


def test_imported_leads_without_status_or_source_start_open_from_import(client, auth, app):
    auth.login()
    imp = upload(client, "Title,Email\nFresh one,fresh@example.org\n")
    run(client, imp)
    lead = db.session.scalar(select(Lead).where(Lead.email == "fresh@example.org"))
    first_open = db.session.scalar(select(LeadStatus.id).where(LeadStatus.kind == "open").order_by(LeadStatus.position))
    assert (lead.status_id, lead.source) == (first_open, "Import")
