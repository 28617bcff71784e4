"""Distribution pools: member order, inactive and removed members skipped, weights, daily caps,
one atomic pointer shared by every entry point (forms, API, mass change), even under concurrency."""
import threading
import traceback
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.extensions import db
from crm.models import Lead, Pool, PoolMember, PoolTurn, User
from crm.services import DomainError
from crm.services import pools
from crm.services.owners import owner_choices, resolve_owner, resolve_owner_bulk


def users(*emails: str) -> list[User]:
    return [db.session.scalar(select(User).where(User.email == e)) for e in emails]


def make_pool(name: str = "Inbound EU", members=("rep1", "rep2", "rep3"), record_type: str = "lead",
              weights: dict | None = None, caps: dict | None = None) -> Pool:
    pool = Pool(name=name, record_type=record_type)
    for position, u in enumerate(users(*(f"{m}@example.com" for m in members))):
        key = u.email.split("@")[0]
        pool.members.append(PoolMember(user_id=u.id, position=position, weight=(weights or {}).get(key, 1),
                                       daily_cap=(caps or {}).get(key)))
    db.session.add(pool)
    db.session.commit()
    return pool


def emails_of(user_ids: list[int]) -> list[str]:
    names = dict(db.session.execute(select(User.id, User.email)).all())
    return [names[i].split("@")[0] for i in user_ids]


def next_owners(pool: Pool, n: int) -> list[str]:
    return emails_of([resolve_owner(db.session, f"pool:{pool.id}", None, pool.record_type).id for _ in range(n)])


def test_a_pool_hands_out_turns_in_member_order_and_wraps_around(app):
    pool = make_pool()
    assert next_owners(pool, 7) == ["rep1", "rep2", "rep3", "rep1", "rep2", "rep3", "rep1"]
    assert db.session.get(Pool, pool.id).cursor == 7


def test_inactive_users_and_removed_members_are_skipped(app):
    pool = make_pool(members=("rep1", "rep2", "rep3", "rep4"))
    users("rep2@example.com")[0].active = False
    db.session.delete(db.session.scalar(select(PoolMember).where(
        PoolMember.pool_id == pool.id, PoolMember.user_id == users("rep4@example.com")[0].id)))
    db.session.commit()
    assert next_owners(pool, 4) == ["rep1", "rep3", "rep1", "rep3"]


def test_weights_spread_turns_in_proportion(app):
    pool = make_pool(members=("rep1", "rep2"), weights={"rep1": 2})
    owners = next_owners(pool, 30)
    assert Counter(owners) == {"rep1": 20, "rep2": 10}
    assert owners[:3] == ["rep1", "rep2", "rep1"]


def test_a_member_at_the_daily_cap_gets_no_more_turns_today(app):
    pool = make_pool(members=("rep1", "rep2"), caps={"rep1": 2})
    assert next_owners(pool, 6) == ["rep1", "rep2", "rep1", "rep2", "rep2", "rep2"]


def test_when_everyone_is_capped_the_assignment_is_refused_with_a_reason(app):
    pool = make_pool(members=("rep1",), caps={"rep1": 1})
    next_owners(pool, 1)
    with pytest.raises(DomainError, match="daily cap"):
        next_owners(pool, 1)


def test_the_preview_shows_the_next_ten_owners_without_taking_turns(app):
    pool = make_pool()
    next_owners(pool, 1)
    preview = [u.email.split("@")[0] for u in pools.preview(db.session, db.session.get(Pool, pool.id), 10)]
    assert preview == ["rep2", "rep3", "rep1"] * 3 + ["rep2"]
    assert db.session.get(Pool, pool.id).cursor == 1
    assert next_owners(pool, 2) == ["rep2", "rep3"]


def test_the_pool_counts_how_many_records_each_member_got_this_week(app):
    pool = make_pool()
    next_owners(pool, 5)
    counts = pools.counts_since(db.session, pool.id, pools.week_start())
    assert Counter(emails_of([uid for uid, n in counts.items() for _ in range(n)])) == {"rep1": 2, "rep2": 2, "rep3": 1}


def test_pools_are_offered_only_for_their_record_type_and_not_to_reps(app, admin, rep):
    make_pool("Inbound EU", record_type="lead")
    make_pool("Key accounts", record_type="deal")
    lead_labels = [label for _, label in owner_choices(db.session, admin, "lead")]
    assert "Pool: Inbound EU (round robin)" in lead_labels and "Pool: Key accounts (round robin)" not in lead_labels
    assert not any(v.startswith("pool:") for v, _ in owner_choices(db.session, rep, "lead"))


def test_a_pool_without_active_members_is_not_offered(app, admin):
    pool = make_pool("Gone quiet", members=("rep5",))
    pool.members[0].user.active = False
    db.session.commit()
    assert f"pool:{pool.id}" not in [v for v, _ in owner_choices(db.session, admin, "lead")]


def test_a_pool_of_another_record_type_is_refused(app, admin):
    pool = make_pool(record_type="deal")
    with pytest.raises(DomainError, match="distributes deals"):
        resolve_owner(db.session, f"pool:{pool.id}", admin, "lead")


def test_the_lead_form_assigns_through_the_pool_pointer(client, auth, app):
    pool = make_pool()
    next_owners(pool, 1)
    auth.login()
    for title in ("Fleet A", "Fleet B"):
        response = client.post("/leads/new", data={"title": title, "owner": f"pool:{pool.id}", "status": ""})
        assert response.status_code == 303
    owners = db.session.execute(select(Lead.title, Lead.owner_id).where(Lead.title.in_(["Fleet A", "Fleet B"]))
                                .order_by(Lead.id)).all()
    assert emails_of([o for _, o in owners]) == ["rep2", "rep3"]


def test_editing_a_lead_to_a_pool_gives_it_the_next_member(client, auth, app):
    pool = make_pool()
    auth.login()
    lead = db.session.get(Lead, 1)
    response = client.post("/leads/1/edit", data={"title": lead.title, "owner": f"pool:{pool.id}", "status": ""})
    assert response.status_code == 303
    db.session.expire_all()
    assert emails_of([db.session.get(Lead, 1).owner_id]) == ["rep1"]


def test_bulk_resolution_spreads_records_evenly_in_turn_and_continues_the_pointer(app, admin):
    pool = make_pool()
    next_owners(pool, 1)
    ids = select(Lead.id).where(Lead.id <= 10)
    pairs = db.session.execute(resolve_owner_bulk(db.session, f"pool:{pool.id}", admin, "lead", ids)).all()
    assert [rid for rid, _ in pairs] == list(range(1, 11))
    assert emails_of([o for _, o in pairs]) == (["rep2", "rep3", "rep1"] * 4)[:10]
    assert next_owners(pool, 1) == ["rep3"]
    turns = db.session.scalars(select(PoolTurn.turn).where(PoolTurn.pool_id == pool.id).order_by(PoolTurn.turn)).all()
    assert turns == list(range(1, 13))


def test_bulk_resolution_honours_caps_mid_way(app, admin):
    pool = make_pool(members=("rep1", "rep2"), caps={"rep1": 3})
    pairs = db.session.execute(resolve_owner_bulk(db.session, f"pool:{pool.id}", admin, "lead",
                                                  select(Lead.id).where(Lead.id <= 8))).all()
    assert emails_of([o for _, o in pairs]) == ["rep1", "rep2", "rep1", "rep2", "rep1", "rep2", "rep2", "rep2"]


def test_eight_concurrent_workers_get_a_perfectly_even_distribution(app):
    """Real threads, each with its own session and transaction per assignment (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the concurrency guarantee is tested on PostgreSQL (TEST_DATABASE=postgresql)")
    pool_id = make_pool(members=("rep1", "rep2", "rep3", "rep4")).id  # threads must not touch db.session's objects
    workers, each = 8, 1000
    errors: list[Exception] = []
    engine = db.engine

    def work():
        try:
            with app.app_context(), Session(engine) as session:
                session.connection().exec_driver_sql("SET synchronous_commit TO off")  # speed, not semantics
                for _ in range(each):
                    owner = resolve_owner(session, f"pool:{pool_id}", None, "lead")
                    session.add(Lead(title="Concurrent", owner_id=owner.id, source="pool-test"))
                    session.commit()
        except Exception:  # reported below; a thread cannot fail the test itself
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        pytest.fail(errors[0], pytrace=False)
    counts = dict(db.session.execute(select(Lead.owner_id, func.count()).where(Lead.source == "pool-test")
                                     .group_by(Lead.owner_id)).all())
    assert sorted(counts.values()) == [2000, 2000, 2000, 2000]
    turns = db.session.scalars(select(PoolTurn.turn).where(PoolTurn.pool_id == pool_id).order_by(PoolTurn.turn)).all()
    assert turns == list(range(1, workers * each + 1))
    db.session.expire_all()
    assert db.session.get(Pool, pool_id).cursor == workers * each


def test_mass_change_reassign_to_a_pool_spreads_records_in_turn(app, admin):
    """The mass-change engine's Reassign takes one turn per record, set-based, in record id order."""
    from crm.services import bulk
    from crm.services.filters import parse_filter
    from crm.services.record_types import LEAD
    pool = make_pool()
    next_owners(pool, 1)
    ids = db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(7)).all()
    from werkzeug.datastructures import MultiDict
    flt = parse_filter(db.session, LEAD, MultiDict(), admin)
    sel = bulk.Selection(LEAD, flt, admin, tuple(ids))
    bulk.reassign(db.session, sel, f"pool:{pool.id}", expected=len(ids))
    db.session.commit()
    db.session.expire_all()
    owners = [db.session.get(Lead, i).owner_id for i in ids]
    assert emails_of(owners) == (["rep2", "rep3", "rep1"] * 3)[:7]
    assert db.session.get(Pool, pool.id).cursor == 8


def test_admins_create_a_pool_and_order_its_members_on_the_pool_page(client, auth, app):
    auth.login()
    assert client.post("/admin/pools/", data={"name": "Inbound EU", "record_type": "lead"}).status_code == 303
    response = client.post("/admin/pools/", data={"name": "inbound eu", "record_type": "lead"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and b"There is already a pool called" in response.data and b"<html" not in response.data
    pool = db.session.scalar(select(Pool))
    for email in ("rep1@example.com", "rep2@example.com"):
        client.post(f"/admin/pools/{pool.id}/members", data={"user_id": uid_of(email)})
    second = db.session.scalars(select(PoolMember).where(PoolMember.pool_id == pool.id).order_by(PoolMember.position)).all()[1]
    client.post(f"/admin/pools/{pool.id}/members/{second.id}", data={"move": "up"})
    page = client.get(f"/admin/pools/{pool.id}").get_data(as_text=True)
    preview = page[page.index("Next 10 assignments"):]
    assert preview.index("Lars Berg") < preview.index("Ana Ruiz")


def test_reps_cannot_open_the_pool_pages(client, auth, app):
    auth.login("rep1@example.com")
    assert client.get("/admin/pools/").status_code == 403


def uid_of(email: str) -> int:
    return users(email)[0].id


def test_lead_conversion_gives_the_contact_and_the_deal_the_same_next_member(app, admin):
    from crm.models import Stage
    from crm.services.conversion import LeadPlan, convert_lead
    pool = make_pool("Key accounts", record_type="deal")
    stage = db.session.scalar(select(Stage).order_by(Stage.id))
    leads = db.session.scalars(select(Lead).where(Lead.converted_at.is_(None), Lead.deleted_at.is_(None))
                               .order_by(Lead.id).limit(2)).all()
    results = [convert_lead(db.session, lead, admin, LeadPlan(owner=f"pool:{pool.id}", stage_id=stage.id))
               for lead in leads]
    assert [(r.contact.owner_id == r.deal.owner_id) for r in results] == [True, True]
    assert emails_of([r.deal.owner_id for r in results]) == ["rep1", "rep2"]


def test_records_created_through_the_api_take_the_pools_next_member(client, app, admin):
    from crm.services.api_tokens import issue_token
    pool = make_pool()
    token = issue_token(db.session, admin)
    db.session.commit()
    owners = []
    for title in ("From the API 1", "From the API 2"):
        response = client.post("/api/leads", json={"title": title, "owner": f"pool:{pool.id}"},
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201
        owners.append(response.get_json()["owner_id"])
    assert emails_of(owners) == ["rep1", "rep2"]


def test_managers_may_use_only_pools_inside_their_team(app, manager):
    north = make_pool("North inbound", members=("rep1", "rep2"))
    mixed = make_pool("Everyone", members=("rep1", "rep4"))
    offered = [v for v, _ in owner_choices(db.session, manager, "lead") if v.startswith("pool:")]
    assert offered == [f"pool:{north.id}"]
    with pytest.raises(DomainError, match="outside your team"):
        resolve_owner(db.session, f"pool:{mixed.id}", manager, "lead")
    assert emails_of([resolve_owner(db.session, f"pool:{north.id}", manager, "lead").id]) == ["rep1"]
