"""Races a busy team produces, run with real threads and real transactions (the campaign of issue 11).

Each thread is a separate client (its own requests, sessions and transactions), released together.
PostgreSQL is where these guarantees matter most (TEST_DATABASE=postgresql); SQLite runs those
that do not need PostgreSQL's lock introspection, since it lets one writer in at a time.
"""
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Batch, Lead, Note, Pool, PoolMember, Team, User
from crm.models.pools import CaptureForm
from crm.services import bulk
from crm.services.editing import update_record
from crm.services.filters import parse_filter
from crm.services.record_types import LEAD
from crm.services.trash import undo_batch
from tests.test_bulk_concurrency import assert_history_chain

ORIGIN = {"Origin": "http://localhost"}


def together(work: Callable[[int], object], n: int) -> list:
    """Run work(0..n-1) in n threads released at once; their results in thread order (errors re-raised)."""
    barrier, results, errors = threading.Barrier(n), [None] * n, []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except Exception as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def uid(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def test_200_concurrent_captures_into_a_5_member_pool_give_each_member_40(app):
    north = db.session.scalar(select(Team.id).where(Team.name == "North"))
    extra = User(email="rep6@example.com", name="Rep Six", role="rep", team_id=north)
    extra.set_password("demo")
    db.session.add(extra)
    db.session.flush()
    members = [uid(e) for e in ("manager@example.com", "rep1@example.com", "rep2@example.com",
                                "rep3@example.com", "rep6@example.com")]
    pool = Pool(name="Inbound", record_type="lead",
                members=[PoolMember(user_id=m, position=i) for i, m in enumerate(members)])
    db.session.add(pool)
    db.session.flush()
    db.session.add(CaptureForm(name="Contact us", slug="contact-us", fields=["person_name", "email", "message"],
                               owner_choice=f"pool:{pool.id}", source="Race form"))
    db.session.commit()
    # SQLite lets one writer in at a time: 4 clients (gunicorn's workers on one box), not 20 queueing past the busy timeout
    threads, each = (20, 10) if db.engine.dialect.name == "postgresql" else (4, 50)

    def submit_ten(i: int) -> list[int]:
        client = app.test_client()
        return [client.post("/f/contact-us", headers=ORIGIN, data={
            "person_name": f"Visitor {i}-{k}", "email": f"v{i}-{k}@example.org", "message": "Call me"}).status_code
            for k in range(each)]

    statuses = Counter(s for batch in together(submit_ten, threads) for s in batch)
    assert set(statuses) <= {200, 201, 303} and statuses.total() == threads * each
    owners = Counter(db.session.scalars(select(Lead.owner_id).where(Lead.source == "Race form")))
    assert owners == {m: 40 for m in members}


def _make_lead(owner_email: str, title: str) -> Lead:
    owner = db.session.scalar(select(User).where(User.email == owner_email))
    lead = Lead(title=title, owner_id=owner.id, team_id=owner.team_id)
    db.session.add(lead)
    db.session.flush()
    db.session.add(Note(body=f"Note of {title}", lead_id=lead.id))
    return lead


def test_two_people_merging_the_same_leads_at_once_merge_them_once(app):
    a, b = _make_lead("rep1@example.com", "Acme AB"), _make_lead("rep1@example.com", "Acme")
    db.session.commit()
    ids = f"{a.id},{b.id}"

    def merge(i: int):
        client = app.test_client()
        client.post("/login", data={"email": ["rep1@example.com", "manager@example.com"][i], "password": "demo"})
        return client.post("/leads/merge", data={"ids": ids, "survivor": a.id})

    responses = together(merge, 2)
    db.session.expire_all()
    assert sorted(r.status_code for r in responses) == [303, 422]
    refused = next(r for r in responses if r.status_code == 422).get_data(as_text=True)
    assert "in the trash" in refused
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.action == "merge")) == 1
    notes = db.session.scalars(select(Note.lead_id).where(Note.body.like("Note of Acme%"))).all()
    assert notes == [a.id, a.id]  # moved once, none lost or doubled
    assert db.session.get(Lead, b.id).merged_into_id == a.id


def test_two_concurrent_mass_changes_over_the_same_leads_both_apply_in_turn(app, admin):
    ids = sorted(db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None))))
    targets = [uid("rep2@example.com"), uid("rep3@example.com")]
    admin_id = admin.id

    def reassign(i: int) -> int:
        with app.app_context():
            try:
                actor = db.session.get(User, admin_id)
                flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, ids))}), actor)
                sel = bulk.Selection.build(LEAD, flt, actor, select_all=False)
                outcome = bulk.reassign(db.session, sel, f"user:{targets[i]}", expected=len(ids), chunk_size=7)
                db.session.commit()
                return outcome.changed
            finally:
                db.session.remove()

    assert sum(together(reassign, 2)) >= len(ids)  # the second finds some already changed at most
    db.session.expire_all()
    final = set(db.session.scalars(select(Lead.owner_id).where(Lead.id.in_(ids))))
    assert len(final) == 1 and final <= set(targets)  # one change wholly after the other, never interleaved
    batches = db.session.scalars(select(Batch.id).where(Batch.action == "reassign")).all()
    assert len(batches) == 2
    assert_history_chain(ids, "owner_id")  # every event starts where the one before ended


def _blocked_by(session: Session) -> int:
    """How many other database sessions wait for a lock this session holds (PostgreSQL)."""
    return session.scalar(text("SELECT count(*) FROM pg_locks "  # live, unlike pg_stat_activity's snapshot
                               "WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"))


def test_an_edit_made_while_an_undo_runs_is_never_undone(app, admin):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL's lock introspection to hold the edit open while Undo waits")
    ids = sorted(db.session.scalars(select(Lead.id).where(Lead.owner_id == uid("rep1@example.com"))))[:10]
    actor = db.session.get(User, admin.id)
    flt = parse_filter(db.session, LEAD, MultiDict({"ids": ",".join(map(str, ids))}), actor)
    batch_id = bulk.reassign(db.session, bulk.Selection.build(LEAD, flt, actor, select_all=False),
                             f"user:{uid('rep2@example.com')}", expected=len(ids)).batch.id
    db.session.commit()
    edited, undo_done, rep3, admin_id = threading.Event(), threading.Event(), uid("rep3@example.com"), admin.id
    engine = db.engine

    def edit(_: int) -> None:  # someone saves the first lead's form with a new owner, slowly
        with app.app_context(), Session(engine) as session:
            update_record(session, session.get(Lead, ids[0]), {"owner_id": rep3}, session.get(User, admin_id))
            edited.set()
            while not _blocked_by(session) and not undo_done.is_set():
                session.connection().exec_driver_sql("SELECT pg_sleep(0.02)")  # until Undo waits for us
            session.commit()

    def undo(_: int) -> str:
        edited.wait(timeout=60)
        with app.app_context(), Session(engine) as session:
            outcome = undo_batch(session, batch_id, session.get(User, admin_id))
            session.commit()
            undo_done.set()
            return outcome.message

    message = together(lambda i: (edit, undo)[i](i), 2)[1]
    db.session.expire_all()
    assert db.session.get(Lead, ids[0]).owner_id == rep3  # the edit stands
    assert {db.session.get(Lead, i).owner_id for i in ids[1:]} == {uid("rep1@example.com")}
    assert "1 lead changed again since" in message
