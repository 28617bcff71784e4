"""Importing 100,000 CSV rows through the import job against a hand-written bulk INSERT."""
import csv
import uuid

from sqlalchemy import select, text

from crm.bench import Bench, Result, bench_row, peak_rss_mb, timed
from crm.extensions import db
from crm.models import User
from crm.models.pools import ImportJob
from crm.services import importing, jobs

ROWS = 100_000


def _write_csv(path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["First Name", "Last Name", "Company", "Email", "Phone", "City", "Lead Source"])
        for i in range(ROWS):
            out.writerow([f"Eva{i}", "Lind", f"Company {i}", f"bench{i}@import.example.com", f"+46 70 {i:06d}",
                          "Malmö", "Import bench"])


@bench_row
def import_csv(bench: Bench) -> list[Result]:
    app, path = bench.app, bench.workdir / "import-bench.csv"
    _write_csv(path)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        fmt = importing.detect(path)
        imp = ImportJob(id=str(uuid.uuid4()), actor_id=admin.id, record_type="lead", filename=path.name,
                        path=str(path), encoding=fmt.encoding, delimiter=fmt.delimiter, headers=fmt.headers,
                        row_count=fmt.rows, duplicates="create",
                        mapping=importing.guess_mapping(db.session, "lead", fmt.headers))
        db.session.add(imp)
        db.session.commit()

        def app_run(dry_run: bool = False):
            job = jobs.create_job(db.session, "dry_run" if dry_run else "import", admin,
                                  "crm.services.importing.run_import", total=imp.row_count, import_id=imp.id,
                                  dry_run=dry_run)
            importing.run_import(db.session, job, imp.id, dry_run)
            db.session.commit()

        dry_s = timed(lambda: app_run(dry_run=True))
        rss_before = peak_rss_mb()
        app_s = timed(app_run)
        rss = peak_rss_mb() - rss_before
        sql = text("INSERT INTO lead (title, person_name, company_name, email, phone, city, source, owner_id, "
                   "custom, created_at, updated_at, address, country, tags, description) VALUES (:title, :person, "
                   ":company, :email, :phone, :city, :source, :owner, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                   "'', '', '', '')")

        def hand_written():
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.reader(f)
                next(reader)
                batch = []
                for first, last, company, email, phone, city, source in reader:
                    batch.append({"title": company, "person": f"{first} {last}", "company": company, "email": email,
                                  "phone": phone, "city": city, "source": source, "owner": admin.id})
                    if len(batch) == 1000:
                        db.session.execute(sql, batch)
                        batch = []
                if batch:
                    db.session.execute(sql, batch)
            db.session.commit()

        sql_s = timed(hand_written)  # no cleanup: deleting 200k leads with FK checks costs minutes
    return [Result(ROWS, "CSV import dry run, 100k rows (validate, dedupe)", dry_s, sql_s, "background job"),
            Result(ROWS, "CSV import, 100k rows (validate, dedupe, history)", app_s, sql_s,
                   f"background job; peak RSS grew {rss:.0f} MB")]
