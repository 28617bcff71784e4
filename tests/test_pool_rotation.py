"""Pools stay fair when their members change: the person next in line keeps their turn, counts stay
within one of each other, and members who cannot open the pool's records are passed over."""
import random
from collections import Counter

from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, Pool, PoolMember, Setting, Team, User
from crm.services import pools
from crm.services.owners import owner_choices, resolve_owner, resolve_owner_bulk

NAMES = {"rep1": "Ana", "rep2": "Lars", "rep3": "Sofia", "rep4": "Hugo", "rep5": "Ines"}


def user_id(handle: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == f"{handle}@example.com"))


def first_names(user_ids: list[int]) -> list[str]:
    handles = dict(db.session.execute(select(User.id, User.email)).all())
    return [NAMES[handles[i].split("@")[0]] for i in user_ids]


def make_pool(*handles: str, name: str = "Inbound EU") -> int:
    pool = Pool(name=name, record_type="lead")
    pool.members = [PoolMember(user_id=user_id(h), position=i) for i, h in enumerate(handles)]
    db.session.add(pool)
    db.session.commit()
    return pool.id


def add_member(pool_id: int, handle: str) -> None:
    pool = db.session.get(Pool, pool_id)
    pool.members.append(PoolMember(user_id=user_id(handle), position=len(pool.members)))
    db.session.commit()


def remove_member(pool_id: int, handle: str) -> None:
    pool = db.session.get(Pool, pool_id)
    pool.members.remove(next(m for m in pool.members if m.user_id == user_id(handle)))
    db.session.commit()


def turns(pool_id: int, n: int) -> list[str]:
    """n records handed out one by one, as forms, the API and capture do."""
    owners = [resolve_owner(db.session, f"pool:{pool_id}", None, "lead").id for _ in range(n)]
    db.session.commit()
    return first_names(owners)


def test_the_issue_scenario_the_next_in_line_keeps_their_turn(app):
    pool = make_pool("rep1", "rep2", "rep3")
    handed = turns(pool, 4)
    assert handed == ["Ana", "Lars", "Sofia", "Ana"]
    add_member(pool, "rep4")  # Hugo joins: Lars was next and stays next, Hugo joins the back of the line
    after_join = turns(pool, 4)
    assert after_join == ["Lars", "Sofia", "Hugo", "Ana"]
    remove_member(pool, "rep2")  # after Ana's turn Lars was next: the one after him is next now
    after_leave = turns(pool, 4)
    assert after_leave == ["Sofia", "Hugo", "Ana", "Sofia"]
    assert Counter(handed + after_join + after_leave) == {"Ana": 4, "Sofia": 4, "Lars": 2, "Hugo": 2}
    assert Counter(after_join) == {"Lars": 1, "Sofia": 1, "Hugo": 1, "Ana": 1}


def test_a_mass_reassign_right_after_a_member_joins_continues_the_line(app, admin):
    pool = make_pool("rep1", "rep2", "rep3")
    turns(pool, 4)  # Ana, Lars, Sofia, Ana
    add_member(pool, "rep4")
    ids = select(Lead.id).where(Lead.id <= 8)
    pairs = db.session.execute(resolve_owner_bulk(db.session, f"pool:{pool}", admin, "lead", ids)).all()
    assert first_names([o for _, o in pairs]) == ["Lars", "Sofia", "Hugo", "Ana"] * 2
    assert turns(pool, 1) == ["Lars"]


def test_moving_a_member_keeps_the_next_turn_with_the_person_next_in_line(app):
    pool = make_pool("rep1", "rep2", "rep3")
    assert turns(pool, 2) == ["Ana", "Lars"]
    members = db.session.get(Pool, pool).members
    members[0].position, members[2].position = 2, 0  # order Sofia, Lars, Ana; Sofia was next
    db.session.commit()
    assert turns(pool, 4) == ["Sofia", "Lars", "Ana", "Sofia"]


def test_counts_stay_within_one_through_random_membership_changes(app):
    """Equal weights: whoever is in the pool over a stretch of turns gets within one of the others."""
    rng = random.Random(12)
    everyone = ["rep1", "rep2", "rep3", "rep4", "rep5"]
    pool = make_pool("rep1", "rep2", "rep3")
    members = ["rep1", "rep2", "rep3"]
    for _ in range(12):
        stretch = turns(pool, rng.randint(1, 9))
        counts = Counter(stretch)
        assert max(counts.values()) - min(counts.get(NAMES[h], 0) for h in members) <= 1, stretch
        line = db.session.get(Pool, pool)
        next_up = pools.Rotation(line.rotation_turn, tuple(line.rotation)).owner(line.cursor + 1)
        outside = [h for h in everyone if h not in members]
        if outside and (len(members) < 2 or rng.random() < 0.5):
            joining = rng.choice(outside)
            add_member(pool, joining)
            members.append(joining)
            assert first_names([resolve_owner(db.session, f"pool:{pool}", None, "lead").id]) == first_names([next_up])
            db.session.commit()
        else:
            leaving = rng.choice([h for h in members if user_id(h) != next_up] or members)
            remove_member(pool, leaving)
            members.remove(leaving)


def test_members_who_cannot_open_leads_are_skipped_and_the_pool_page_says_so(client, auth, app, admin):
    south = db.session.scalar(select(Team).where(Team.name == "South"))
    south.leads_enabled = False
    db.session.commit()
    pool = make_pool("rep1", "rep4", "rep2", name="Mixed teams")
    assert turns(pool, 4) == ["Ana", "Lars", "Ana", "Lars"]  # Hugo (South) would get a 403 on his lead
    auth.login()
    page = client.get(f"/admin/pools/{pool}").get_data(as_text=True)
    assert "Hugo Martin cannot open leads: they are switched off for team South" in page
    assert "The pool skips" in page
    preview = page[page.index("Next 10 assignments"):]
    assert "Hugo Martin" not in preview


def test_a_pool_nobody_in_it_can_take_is_not_offered(app, admin):
    south = db.session.scalar(select(Team).where(Team.name == "South"))
    south.leads_enabled = False
    db.session.commit()
    pool = make_pool("rep4", "rep5", name="South inbound")
    assert f"pool:{pool}" not in dict(owner_choices(db.session, admin, "lead"))
    db.session.merge(Setting(key="use_leads", value="yes"))
    south.leads_enabled = True
    db.session.commit()
    assert f"pool:{pool}" in dict(owner_choices(db.session, admin, "lead"))
