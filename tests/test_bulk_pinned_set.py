"""The drawer's confirmation pins the exact set it showed: when records left and others joined
(same count), the change is refused with the stale-selection message and nothing changes."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Batch, Lead
from crm.services.bulk.fingerprint import set_fingerprint
from tests.conftest import user
from tests.test_bulk import HX, apply, pinned_set


def owners() -> dict[int, int | None]:
    db.session.expire_all()
    return {i: o for i, o in db.session.execute(select(Lead.id, Lead.owner_id))}


def test_same_count_other_members_is_refused(app, auth, client):
    """The issue's case: the drawer shows #a and #b (source Fair); someone moves #a out of the
    filter and #c into it; confirming with count 2 must not change #c, never previewed."""
    ids = sorted(db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None))))[:3]
    a, b, c = (db.session.get(Lead, i) for i in ids)
    a.source, b.source, c.source = "Fair", "Fair", "Web"
    db.session.commit()
    auth.login()
    selection = {"type": "lead", "all": "1", "source": "Fair"}
    seen = pinned_set(client, selection)
    assert seen.startswith("2-")
    a.source, c.source = "Web", "Fair"  # another user's edits, between drawer and confirmation
    db.session.commit()
    before = owners()
    response = apply(client, headers=HX, **selection, action="reassign", confirm="REASSIGN", count="2",
                     pinned=seen, new_owner=f"user:{user('rep3@example.com').id}")
    assert response.status_code == 409
    assert "The set changed since the drawer opened: some records left it and others joined it" in response.text
    assert owners() == before
    assert db.session.scalar(select(func.count(Batch.id))) == 0
    # The drawer shown again carries the new set: confirming that one works.
    fresh = pinned_set(client, selection)
    assert fresh != seen
    response = apply(client, headers=HX, **selection, action="reassign", confirm="REASSIGN", count="2",
                     pinned=fresh, new_owner=f"user:{user('rep3@example.com').id}")
    assert response.status_code == 200
    assert owners()[c.id] == user("rep3@example.com").id


def test_a_confirmation_without_the_pinned_set_only_shows_the_drawer_again(app, auth, client):
    auth.login()
    before = owners()
    response = client.post("/bulk/apply", headers=HX, data={
        "type": "lead", "all": "1", "action": "delete", "confirm": "DELETE", "count": str(len(before))})
    assert response.status_code == 409
    assert 'name="pinned"' in response.text
    assert owners() == before


def test_the_fingerprint_tells_sets_apart_and_ignores_order(app):
    ids = sorted(db.session.scalars(select(Lead.id)))
    one = set_fingerprint(db.session, Lead.id, Lead.id.in_(ids[:5]))
    assert one == set_fingerprint(db.session, Lead.id, Lead.id.in_(list(reversed(ids[:5]))))
    assert one != set_fingerprint(db.session, Lead.id, Lead.id.in_(ids[1:6]))
    assert one != set_fingerprint(db.session, Lead.id, Lead.id.in_(ids[:4] + ids[6:7]))
    assert set_fingerprint(db.session, Lead.id, Lead.id.in_([])).startswith("0-")
