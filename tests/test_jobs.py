"""Background jobs record progress, notify the user in the app and by mail, and record failures."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import Job, Notification
from crm.services import jobs
from crm.tasks import run_job


def count_to(session, job, n: int) -> None:
    for i in range(1, n + 1):
        jobs.progress(session, job, i)
    jobs.finish(session, job, f"Counted to {n}.", link="/leads/")


def explode(session, job) -> None:
    raise RuntimeError("disk full")


def test_a_finished_job_reports_full_progress_and_notifies_its_user(app, admin, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", tmp_path / "outbox.log")
    job = jobs.create_job(db.session, "count", admin, "test_jobs.count_to", total=3, n=3)
    run_job(job.id)
    job = db.session.get(Job, job.id)
    assert (job.status, job.done, job.percent) == ("done", 3, 100)
    note = db.session.scalar(select(Notification).where(Notification.user_id == admin.id))
    assert note.text == "Counted to 3." and note.link == "/leads/"
    assert "Counted to 3." in (tmp_path / "outbox.log").read_text()


def test_a_failing_job_is_marked_failed_with_the_reason(app, admin, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_OUTBOX", tmp_path / "outbox.log")
    job = jobs.create_job(db.session, "explode", admin, "test_jobs.explode", total=1)
    run_job(job.id)
    job = db.session.get(Job, job.id)
    assert job.status == "failed" and "disk full" in job.message


def test_the_progress_fragment_polls_until_the_job_is_done(client, auth, admin):
    auth.login()
    job = jobs.create_job(db.session, "count", admin, "test_jobs.count_to", total=10, n=10)
    response = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert b'hx-trigger="every 1s"' in response.data and b"<html" not in response.data
    assert "HX-Refresh" not in response.headers
    run_job(job.id)
    response = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert b"every 1s" not in response.data and b"100%" in response.data
    assert response.headers["HX-Refresh"] == "true"  # the page around the bar shows the result
    assert "HX-Refresh" not in client.get(f"/jobs/{job.id}").headers
