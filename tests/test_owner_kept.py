"""A rep (or a manager) never saves a record with no owner: it would vanish from their view and
their manager's. Admins may still leave a record without one."""
import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead
from tests.conftest import user


def own_lead(email: str) -> Lead:
    """A lead the user may edit: their own (a rep), or one of their team's (a manager)."""
    who = user(email)
    mine = Lead.team_id == who.team_id if who.role == "manager" else Lead.owner_id == who.id
    return db.session.scalars(select(Lead).where(mine, Lead.deleted_at.is_(None),
                                                 Lead.converted_at.is_(None)).order_by(Lead.id)).first()


def edit(client, lead: Lead, owner: str):
    return client.post(f"/leads/{lead.id}/edit", data={
        "title": lead.title, "owner": owner, "status": str(lead.status_id or ""), "email": lead.email or ""})


@pytest.mark.parametrize("email", ["rep1@example.com", "manager@example.com"])
def test_saving_with_no_owner_is_refused_and_nothing_changes(client, auth, email):
    lead = own_lead(email)
    auth.login(email)
    form = client.get(f"/leads/{lead.id}/edit").text
    assert ">No owner<" not in form
    owner = lead.owner_id
    response = edit(client, lead, "")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).owner_id == owner
    assert client.get(f"/leads/{lead.id}").status_code == 200  # still theirs to see


def test_a_new_record_without_owner_is_refused_for_a_rep(client, auth):
    auth.login("rep2@example.com")
    response = client.post("/leads/new", data={"title": "Ownerless", "owner": ""})
    assert response.status_code == 422
    assert db.session.scalar(select(Lead.id).where(Lead.title == "Ownerless")) is None


def test_the_owner_rule_refuses_no_owner_for_anyone_but_admins_and_the_system(app, admin, manager, rep):
    from crm.services import DomainError
    from crm.services.owners import check_owner_kept
    for viewer in (rep, manager):
        with pytest.raises(DomainError, match="Choose an owner"):
            check_owner_kept(None, viewer)
    check_owner_kept(None, admin)
    check_owner_kept(None, None)
    check_owner_kept(rep, rep)


def test_merging_into_no_owner_is_refused_for_a_manager(client, auth, manager):
    leads = db.session.scalars(select(Lead).where(Lead.team_id == manager.team_id, Lead.deleted_at.is_(None),
                                                  Lead.converted_at.is_(None)).order_by(Lead.id).limit(2)).all()
    auth.login("manager@example.com")
    ids = [str(lead.id) for lead in leads]
    response = client.post("/leads/merge", data={"ids": ids, "survivor": ids[0], "owner": "", "merge": "1"})
    assert response.status_code in (409, 422)
    db.session.expire_all()
    assert all(db.session.get(Lead, lead.id).deleted_at is None for lead in leads)


def test_an_admin_may_still_leave_a_record_without_owner(client, auth):
    lead = own_lead("rep1@example.com")
    auth.login()
    assert ">No owner<" in client.get(f"/leads/{lead.id}/edit").text
    assert edit(client, lead, "").status_code == 303
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).owner_id is None
