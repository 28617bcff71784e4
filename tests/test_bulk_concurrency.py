"""Concurrent mass changes on overlapping sets, with real threads (run with TEST_DATABASE=postgresql).

Each record must end consistent with its history: its value is the `new` of its latest event, and
every event's `old` is the previous event's `new` (no lost or interleaved updates).
"""
import threading
import time

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import HistoryEvent, Lead, User
from crm.services import bulk
from crm.services.filters import parse_filter
from crm.services.record_types import LEAD


def run_in_thread(app, ids: list[int], to_email: str, barrier: threading.Barrier, errors: list):
    with app.app_context():
        try:
            admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
            owner = db.session.scalar(select(User.id).where(User.email == to_email))
            flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, ids))}), admin)
            sel = bulk.Selection.build(LEAD, flt, admin, select_all=False)
            barrier.wait()
            bulk.reassign(db.session, sel, f"user:{owner}", expected=len(ids), chunk_size=4,
                          fault=lambda chunk: time.sleep(0.02))  # hold the transaction open a while
            db.session.commit()
        except Exception as error:  # reported to the main thread
            db.session.rollback()
            errors.append(error)
        finally:
            db.session.remove()


def assert_history_chain(record_ids, field):
    for rid in record_ids:
        events = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.record_type == "lead", HistoryEvent.record_id == rid, HistoryEvent.field == field)
            .order_by(HistoryEvent.id)).all()
        for before, after in zip(events, events[1:]):
            assert after.old == before.new, (rid, field, [(e.old, e.new) for e in events])
        if events:
            assert str(getattr(db.session.get(Lead, rid), field)) == events[-1].new


def test_overlapping_concurrent_reassigns_stay_consistent_with_history(app):
    ids = sorted(db.session.scalars(select(Lead.id)))
    db.session.remove()
    jobs = [(ids[:30], "rep2@example.com"), (ids[10:], "rep4@example.com"),
            (ids[5:35], "rep3@example.com"), (ids[::2], "rep5@example.com")]
    barrier, errors = threading.Barrier(len(jobs)), []
    threads = [threading.Thread(target=run_in_thread, args=(app, job_ids, email, barrier, errors))
               for job_ids, email in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    db.session.expire_all()
    assert_history_chain(ids, "owner_id")
    assert_history_chain(ids, "team_id")
    owners = {u.id: u.team_id for u in db.session.scalars(select(User))}
    assert all(lead.team_id == owners[lead.owner_id] for lead in db.session.scalars(select(Lead)))
