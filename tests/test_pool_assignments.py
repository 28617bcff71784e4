"""A pool is an owner wherever an owner is chosen: history names the pool that chose the owner,
the API takes pools by name, and a mass reassign says how the pool spread the records."""
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import HistoryEvent, Lead, Pool, PoolMember, User
from crm.services import bulk, history
from crm.services.api_tokens import issue_token
from crm.services.filters import parse_filter
from crm.services.record_types import LEAD


def make_pool(name: str = "Inbound EU", handles=("rep1", "rep2", "rep3")) -> Pool:
    ids = [db.session.scalar(select(User.id).where(User.email == f"{h}@example.com")) for h in handles]
    pool = Pool(name=name, record_type="lead",
                members=[PoolMember(user_id=uid, position=i) for i, uid in enumerate(ids)])
    db.session.add(pool)
    db.session.commit()
    return pool


def timeline(lead_id: int) -> list[str]:
    events = db.session.scalars(history.timeline_select("lead", lead_id)).all()
    return [view.text for view in history.describe(db.session, events)]


def test_a_lead_created_on_the_form_with_a_pool_says_which_pool_chose_its_owner(client, auth, app):
    pool = make_pool()
    auth.login()
    response = client.post("/leads/new", data={"title": "Fleet renewal", "owner": f"pool:{pool.id}", "status": ""})
    assert response.status_code == 303
    lead = db.session.scalar(select(Lead).where(Lead.title == "Fleet renewal"))
    assert "owner set to Ana Ruiz (pool Inbound EU)" in timeline(lead.id)
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert "owner set to Ana Ruiz (pool Inbound EU)" in page


def test_editing_a_lead_to_a_pool_names_the_pool_in_history(client, auth, app):
    pool = make_pool()
    auth.login()
    ana = db.session.scalar(select(User.id).where(User.email == "rep1@example.com"))
    lead = db.session.scalar(select(Lead).where(Lead.owner_id != ana).order_by(Lead.id))  # Ana's turn is next
    old_owner = lead.owner.name
    client.post(f"/leads/{lead.id}/edit", data={"title": lead.title, "owner": f"pool:{pool.id}", "status": ""})
    assert f"owner changed from {old_owner} to Ana Ruiz (pool Inbound EU)" in timeline(lead.id)
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.record_id == lead.id,
                                                         HistoryEvent.field == "owner_id"))
    assert event.via == f"pool:{pool.id}"


def test_the_api_accepts_a_pool_by_name_and_history_names_it(client, app, admin):
    pool = make_pool()
    token = issue_token(db.session, admin)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    owners = []
    for title, owner in (("From the API 1", "pool:Inbound EU"), ("From the API 2", "pool:inbound eu"),
                         ("From the API 3", f"pool:{pool.id}"), ("From the API 4", "user:rep5@example.com")):
        response = client.post("/api/leads", json={"title": title, "owner": owner}, headers=headers)
        assert response.status_code == 201, response.get_json()
        owners.append(db.session.get(User, response.get_json()["owner_id"]).name)
    assert owners == ["Ana Ruiz", "Lars Berg", "Sofia Rossi", "Ines Silva"]
    first = db.session.scalar(select(Lead.id).where(Lead.title == "From the API 1"))
    assert "owner set to Ana Ruiz (pool Inbound EU)" in timeline(first)
    response = client.post("/api/leads", json={"title": "Nowhere", "owner": "pool:Outbound"}, headers=headers)
    assert response.status_code == 422 and "no distribution pool called “Outbound”" in response.get_json()["error"]
    assert db.session.scalar(select(Lead.id).where(Lead.title == "Nowhere")) is None


def test_a_mass_reassign_to_a_pool_says_how_it_spread_the_records(app, admin):
    pool = make_pool()
    ids = tuple(db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(10)))
    before = dict(db.session.execute(select(Lead.id, Lead.owner_id).where(Lead.id.in_(ids))).all())
    sel = bulk.Selection(LEAD, parse_filter(db.session, LEAD, MultiDict(), admin), admin, ids)
    outcome = bulk.reassign(db.session, sel, f"pool:{pool.id}", expected=10)
    db.session.commit()
    after = dict(db.session.execute(select(Lead.id, Lead.owner_id).where(Lead.id.in_(ids))).all())
    unchanged = sum(before[i] == after[i] for i in ids)
    assert outcome.message.startswith(
        "Reassigned through the pool Inbound EU — 10 leads: Ana Ruiz 4, Lars Berg 3, Sofia Rossi 3.")
    assert "already belonged to Pool" not in outcome.message
    assert (f"{unchanged} of them already belonged" in outcome.message) == bool(unchanged)
    changed = next(i for i in ids if before[i] != after[i])
    name = db.session.get(User, after[changed]).name
    assert any(text.endswith(f"to {name} (pool Inbound EU) (mass change by Admin)") for text in timeline(changed))
