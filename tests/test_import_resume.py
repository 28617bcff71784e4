"""An import that stops part-way (an error, a killed worker) has written exactly what its batch holds,
the page says so, and it can be resumed to the end; undo on the batch takes back all of it."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, HistoryEvent, Job, Lead
from crm.models.pools import ImportJob
from crm.services import jobs
from crm.services.importing import run as import_run
from tests.import_steps import run, upload

ROWS = ("Title,Email\n"
        "One,one@x.com\n"           # row 2, chunk 1
        "Two,two@x.com\n"           # row 3, chunk 1
        "Bad,not-an-email\n"        # row 4, chunk 2
        "Four,four@x.com\n"         # row 5, chunk 2
        "One again,one@x.com\n"     # row 6, chunk 3: same email as row 2
        "Six,six@x.com\n"           # row 7, chunk 3
        ",seven@x.com\n")           # row 8, chunk 4: no title
FULL = {"create": 4, "update": 0, "skip": 1, "reject": 2}


class Boom(Exception):
    pass


@pytest.fixture
def fails_at_chunk_2(monkeypatch):
    """Runs in chunks of 2 rows that fail after writing the second chunk (as a lost database would)."""
    def hook(chunk: int) -> None:
        if chunk == 2:
            raise Boom("the database went away")
    monkeypatch.setattr(import_run, "CHUNK", 2)
    monkeypatch.setattr(import_run, "FAULT_HOOK", hook)
    return lambda: monkeypatch.setattr(import_run, "FAULT_HOOK", None)


def imported() -> int:
    return db.session.scalar(select(func.count(Lead.id)).where(Lead.email.like("%@x.com"), Lead.deleted_at.is_(None)))


def batch_records(batch_id: str) -> int:
    return db.session.scalar(select(func.count()).where(HistoryEvent.batch_id == batch_id,
                                                        HistoryEvent.record_type == "lead",
                                                        HistoryEvent.kind == "create"))


def test_an_import_that_fails_part_way_keeps_its_chunks_in_its_batch_and_resumes(client, auth, app,
                                                                                 fails_at_chunk_2):
    auth.login()
    imp = upload(client, ROWS)
    report = run(client, imp)
    assert db.session.get(Job, db.session.get(ImportJob, imp.id).job_id).status == "failed"
    assert (report["state"], report["done"], report["counts"]) == ("running", 2, {"create": 2, "update": 0,
                                                                                 "skip": 0, "reject": 0})
    batch = db.session.get(Batch, report["batch_id"])
    assert db.session.get(ImportJob, imp.id).batch_id == batch.id
    assert batch.count == batch_records(batch.id) == imported() == 2
    page = client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert "The import stopped part-way" in page and "It stopped after 2 of 7 rows." in page
    assert "(2 created, 0 updated) is kept in its batch" in page and "Resume the import" in page
    assert client.post(f"/import/{imp.id}", data={"mode": "run", "col_0": "title"}).status_code == 409

    fails_at_chunk_2()  # fixed
    assert client.post(f"/import/{imp.id}", data={"mode": "resume"}).status_code == 303
    db.session.expire_all()
    report = db.session.get(ImportJob, imp.id).report
    assert (report["state"], report["done"], report["counts"]) == ("done", 7, FULL)
    assert [r[:2] for r in report["reasons"]] == [[4, "reject"], [6, "skip"], [8, "reject"]]
    assert report["reasons"][1][2] == "Same email as row 2 of this file."
    assert db.session.get(Batch, batch.id).count == batch_records(batch.id) == imported() == 4
    rejects = client.get(f"/import/{imp.id}/rejects.csv").get_data(as_text=True).splitlines()
    assert [line.split(",")[0] for line in rejects] == ["Title", "Bad", ""]
    assert "Import finished" in client.get(f"/import/{imp.id}").get_data(as_text=True)

    assert client.post(f"/bulk/{batch.id}/undo").status_code == 303
    db.session.expire_all()
    assert imported() == 0


def test_a_stopped_import_whose_batch_was_undone_cannot_be_resumed(client, auth, app, fails_at_chunk_2):
    auth.login()
    imp = upload(client, ROWS)
    report = run(client, imp)
    assert client.post(f"/bulk/{report['batch_id']}/undo").status_code == 303
    fails_at_chunk_2()
    response = client.post(f"/import/{imp.id}", data={"mode": "resume"})
    assert response.status_code == 409 and "Only an import that stopped part-way" in response.get_data(as_text=True)
    assert "what it wrote was undone since" in client.get(f"/import/{imp.id}").get_data(as_text=True)
    db.session.expire_all()
    assert imported() == 0


def test_a_dry_run_that_stops_says_nothing_was_written(client, auth, app, fails_at_chunk_2):
    auth.login()
    imp = upload(client, ROWS)
    run(client, imp, mode="dry")
    page = client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert "The dry run stopped part-way" in page and "A dry run writes nothing" in page
    assert "Resume the import" not in page and imported() == 0


KILLER = """
import os, signal, sys
from crm import create_app
from crm.config import TestConfig
from crm.services.importing import run
from crm.tasks import _run

run.CHUNK = 2
run.FAULT_HOOK = lambda chunk: os.kill(os.getpid(), signal.SIGKILL) if chunk == 2 else None
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1])
with app.app_context():
    _run(sys.argv[2])
"""


def test_a_killed_import_worker_leaves_exactly_what_its_batch_and_report_say(client, auth, app, admin,
                                                                            database_url):
    auth.login()
    imp = upload(client, ROWS)
    job = jobs.create_job(db.session, "import", admin, "crm.services.importing.run_import", total=imp.row_count,
                          import_id=imp.id, dry_run=False)
    imp.job_id, imp.owner_choice = job.id, ""
    db.session.commit()
    done = subprocess.run([sys.executable, "-c", KILLER, database_url, job.id], cwd=Path(__file__).parent.parent,
                          env=os.environ | {"PYTHONPATH": "."}, capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    db.session.rollback()
    db.session.expire_all()
    report = db.session.get(ImportJob, imp.id).report
    assert (report["state"], report["done"], report["counts"]["create"]) == ("running", 2, 2)
    assert db.session.get(Batch, report["batch_id"]).count == batch_records(report["batch_id"]) == imported() == 2
    jobs.fail(db.session, db.session.get(Job, job.id), "The worker stopped.")  # what the heartbeat check does
    db.session.commit()
    assert "Resume the import" in client.get(f"/import/{imp.id}").get_data(as_text=True)
    assert client.post(f"/import/{imp.id}", data={"mode": "resume"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ImportJob, imp.id).report["counts"] == FULL and imported() == 4
