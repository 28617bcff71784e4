"""The lead Convert dialog: contact pools (contact only) and deal pools (with a deal) hand everything
the conversion creates to one member; the deal name is editable; a team can be chosen."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Contact, Deal, HistoryEvent, Lead, Organization, Pool, PoolMember, PoolTurn, Stage, Team
from crm.services import history
from tests.conftest import user


def make_pool(name: str, record_type: str, handles: tuple[str, ...]) -> Pool:
    pool = Pool(name=name, record_type=record_type, members=[
        PoolMember(user_id=user(f"{h}@example.com").id, position=i) for i, h in enumerate(handles)])
    db.session.add(pool)
    db.session.commit()
    return pool


def open_lead() -> Lead:
    lead = db.session.scalar(select(Lead).where(Lead.converted_at.is_(None), Lead.deleted_at.is_(None),
                                                Lead.person_name != "", Lead.company_name != "").order_by(Lead.id))
    return lead


def first_stage() -> Stage:
    return db.session.scalar(select(Stage).order_by(Stage.id))


def convert(client, lead: Lead, **values):
    data = {"owner": f"user:{lead.owner_id}", "team": str(lead.team_id or ""), "customer": "new",
            "create_deal": "y", "deal_title": lead.title, "stage": str(first_stage().id), "action": "convert",
            **values}
    if data["create_deal"] is None:
        del data["create_deal"]
    return client.post(f"/leads/{lead.id}/convert", data=data)


def turns(pool: Pool) -> int:
    return db.session.scalar(select(func.count()).select_from(PoolTurn).where(PoolTurn.pool_id == pool.id))


def test_the_dialog_offers_people_contact_pools_and_deal_pools_and_prefills_name_and_team(client, auth):
    make_pool("Inbound contacts", "contact", ("rep1", "rep2"))
    make_pool("Key accounts", "deal", ("rep3",))
    lead = open_lead()
    auth.login()
    page = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert '<optgroup label="Contact pools">' in page and "Pool: Inbound contacts (round robin)" in page
    assert '<optgroup label="Deal pools (with a deal)">' in page and "Pool: Key accounts (round robin)" in page
    assert f'name="deal_title" type="text" value="{lead.title}"' in page
    team = db.session.get(Team, lead.team_id)
    assert f'<option selected value="{team.id}">{team.name}</option>' in page


def test_without_a_deal_a_contact_pool_gives_the_contact_and_no_deal_pool_turn_is_taken(client, auth):
    contacts = make_pool("Inbound contacts", "contact", ("rep2", "rep3"))
    deals = make_pool("Key accounts", "deal", ("rep1",))
    lead = open_lead()
    auth.login()
    response = convert(client, lead, owner=f"pool:{contacts.id}", create_deal=None)
    assert response.status_code == 303
    lead = db.session.get(Lead, lead.id)
    contact = db.session.get(Contact, lead.converted_contact_id)
    assert contact.owner_id == user("rep2@example.com").id and lead.converted_deal_id is None
    assert db.session.get(Organization, lead.converted_organization_id).owner_id == contact.owner_id
    assert (turns(contacts), turns(deals)) == (1, 0)
    texts = [v.text for v in history.describe(db.session, db.session.scalars(
        history.timeline_select("contact", contact.id)).all())]
    assert "owner set to Lars Berg (pool Inbound contacts) (conversion by Admin)" in texts


def test_without_a_deal_a_deal_pool_is_refused_and_nothing_is_created(client, auth):
    deals = make_pool("Key accounts", "deal", ("rep1",))
    lead = open_lead()
    before = [db.session.scalar(select(func.count(m.id))) for m in (Contact, Organization, Deal)]
    auth.login()
    response = convert(client, lead, owner=f"pool:{deals.id}", create_deal=None)
    assert response.status_code == 422
    assert "The pool Key accounts distributes deals, not contacts." in response.get_data(as_text=True)
    assert [db.session.scalar(select(func.count(m.id))) for m in (Contact, Organization, Deal)] == before
    assert db.session.get(Lead, lead.id).converted_at is None and turns(deals) == 0


def test_with_a_deal_a_contact_pool_gives_contact_and_deal_to_the_same_member(client, auth):
    contacts = make_pool("Inbound contacts", "contact", ("rep3", "rep1"))
    lead = open_lead()
    auth.login()
    response = convert(client, lead, owner=f"pool:{contacts.id}", deal_title="Fleet of 40 vans")
    assert response.status_code == 303
    lead = db.session.get(Lead, lead.id)
    deal = db.session.get(Deal, lead.converted_deal_id)
    assert deal.title == "Fleet of 40 vans"
    assert deal.owner_id == db.session.get(Contact, lead.converted_contact_id).owner_id == user("rep3@example.com").id
    assert turns(contacts) == 1
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.record_type == "deal",
                                                         HistoryEvent.record_id == deal.id,
                                                         HistoryEvent.field == "owner_id"))
    assert event.via == f"pool:{contacts.id}"


def test_an_empty_deal_name_keeps_the_leads_title(client, auth):
    lead = open_lead()
    auth.login()
    assert convert(client, lead, deal_title="  ").status_code == 303
    assert db.session.get(Deal, db.session.get(Lead, lead.id).converted_deal_id).title == lead.title


def test_the_chosen_team_goes_to_everything_created(client, auth):
    lead = open_lead()
    other = db.session.scalar(select(Team).where(Team.id != lead.team_id))
    auth.login()
    assert convert(client, lead, team=str(other.id)).status_code == 303
    lead = db.session.get(Lead, lead.id)
    created = (db.session.get(Contact, lead.converted_contact_id), db.session.get(Organization, lead.converted_organization_id),
               db.session.get(Deal, lead.converted_deal_id))
    assert [r.team_id for r in created] == [other.id] * 3
    assert [r.owner_id for r in created] == [lead.owner_id] * 3


def test_a_manager_cannot_give_a_conversion_to_another_team(client, auth, manager):
    lead = db.session.scalar(select(Lead).where(Lead.team_id == manager.team_id, Lead.converted_at.is_(None),
                                                Lead.deleted_at.is_(None)).order_by(Lead.id))
    south = db.session.scalar(select(Team).where(Team.name == "South"))
    auth.login("manager@example.com")
    page = client.get(f"/leads/{lead.id}/convert").get_data(as_text=True)
    assert ">South</option>" not in page
    response = convert(client, lead, team=str(south.id))
    assert response.status_code == 422
    assert db.session.get(Lead, lead.id).converted_at is None
