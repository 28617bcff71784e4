"""Jobs whose worker died (kill -9 mid-run) do not stay "running" for good: the heartbeat stops, the
job shows as stopped at once and is marked failed, with its partial effects recorded in its batch."""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Deal, Job, Lead, Notification, User
from crm.models.mixins import utcnow
from crm.services import jobs
from crm.services.history import open_batch

SLOW = "tests.test_job_heartbeat.slow_conversion"


def slow_conversion(session, job, *, deal_ids: list[int], pause: float) -> None:
    """A job function for this test: converts deals one chunk (of one) at a time, committing each."""
    from crm.services.conversion.deal_to_lead import _convert_deal_chunk

    actor = session.get(User, job.actor_id)
    batch = open_batch(session, actor.id, "convert", "deal", len(deal_ids), f"{actor.name} converted deals")
    jobs.record_batch(session, job, batch)
    for n, deal_id in enumerate(deal_ids, start=1):
        _convert_deal_chunk(session, [deal_id], actor, batch.id)
        jobs.progress(session, job, n)
        session.commit()
        time.sleep(pause)
    jobs.finish(session, job, "done")


def test_a_job_whose_worker_is_killed_is_marked_failed_with_its_partial_effects(app, database_url, admin):
    deal_ids = list(db.session.scalars(select(Deal.id).where(Deal.deleted_at.is_(None)).order_by(Deal.id).limit(8)))
    job = jobs.create_job(db.session, "deal_conversion", admin, SLOW, total=len(deal_ids),
                          deal_ids=deal_ids, pause=0.4)
    env = {**os.environ, "DATABASE_URL": database_url, "JOB_HEARTBEAT_SECONDS": "0.2", "JOB_STALE_SECONDS": "1.5",
           "HUEY_IMMEDIATE": ""}
    worker = subprocess.Popen([sys.executable, "-c", f"from crm.tasks import run_job; run_job.call_local({job.id!r})"],
                              env=env, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _done(job.id) >= 3, "the worker to convert three deals")
        os.kill(worker.pid, signal.SIGKILL)  # as `kill -9` on the job consumer
    finally:
        worker.wait(timeout=10)
    done = _done(job.id)
    assert 3 <= done < len(deal_ids)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == "running" and not job.stopped  # its last heartbeat is still fresh...
    job.heartbeat_at = utcnow() - timedelta(minutes=5)  # ...a few minutes later:
    db.session.commit()
    assert job.stopped and job.finished  # the page stops polling and says so; a re-run is allowed

    assert jobs.reap_dead(db.session) == 1
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    batch = db.session.get(Batch, job.result["batch_id"])
    converted = db.session.scalar(select(func.count(Lead.id)).where(Lead.origin_deal_id.in_(deal_ids)))
    assert job.status == "failed" and job.finished_at is not None
    assert f"stopped at {done:,} of {len(deal_ids)}" in job.message
    assert f"The {converted} deals it changed before are kept in one batch" in job.message
    assert batch.count == converted == done
    assert "stopped part-way" in batch.summary
    assert job.link == f"/bulk/{batch.id}"
    assert db.session.scalar(select(Notification.text).where(Notification.user_id == admin.id)
                             .order_by(Notification.id.desc())) == job.message
    assert jobs.reap_dead(db.session) == 0  # once


def test_a_dead_job_that_wrote_nothing_says_nothing_changed(app, admin):
    job = jobs.create_job(db.session, "import", admin, SLOW, total=30000)
    job.status, job.done, job.heartbeat_at = "running", 0, utcnow() - timedelta(hours=1)
    db.session.commit()
    jobs.reap_dead(db.session)
    assert db.session.get(Job, job.id).message.endswith("Nothing was changed.")


def test_alive_and_queued_jobs_are_left_alone(app, admin):
    alive = jobs.create_job(db.session, "import", admin, SLOW, total=10)
    alive.status, alive.heartbeat_at = "running", utcnow()
    queued = jobs.create_job(db.session, "import", admin, SLOW, total=10)
    db.session.commit()
    assert jobs.reap_dead(db.session) == 0
    assert (alive.status, queued.status) == ("running", "queued")
    assert not alive.finished and not queued.finished


def test_the_job_page_says_when_the_worker_stopped(client, auth, admin):
    job = jobs.create_job(db.session, "import", admin, SLOW, total=100)
    job.status, job.done, job.heartbeat_at = "running", 40, utcnow() - timedelta(hours=1)
    db.session.commit()
    auth.login()
    page = client.get(f"/jobs/{job.id}").text
    assert "every 1s" not in page
    assert "stopped" in page and "worker" in page


def _done(job_id: str) -> int:
    db.session.expire_all()
    return db.session.get(Job, job_id).done


def _wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
