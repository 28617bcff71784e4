"""Import follows the rules of the rest of the app: owners as in the edit form and mass change, and
matching only among records the importer may see (no reason names another team's record)."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead, Team, User
from tests.import_steps import make_pool, run, uid, upload


def reasons(report: dict) -> dict[int, str]:
    return {row: reason for row, _action, reason in report["reasons"]}


def test_a_manager_cannot_hand_imported_records_to_people_outside_the_team(client, auth, app):
    make_pool("Mixed", "rep1@example.com", "rep4@example.com")
    make_pool("North pool", "rep2@example.com", "rep3@example.com")
    db.session.get(User, uid("rep3@example.com")).active = False
    db.session.commit()
    auth.login("manager@example.com")
    imp = upload(client, "Title,Email,Lead Owner\n"
                         "Mine,a@x.com,rep1@example.com\n"
                         "South,b@x.com,rep4@example.com\n"
                         "Top,c@x.com,Admin\n"
                         "Mixed,d@x.com,Mixed\n"
                         "Pool,e@x.com,North pool\n"
                         "Default,f@x.com,\n"
                         "Gone,g@x.com,Sofia Rossi\n")
    dry = run(client, imp, mode="dry")
    report = run(client, imp)
    assert dry["counts"] == report["counts"] == {"create": 3, "update": 0, "skip": 0, "reject": 4}
    assert reasons(report) == {3: "Hugo Martin is not in your team.", 4: "Admin is not in your team.",
                               5: "That pool hands records to people outside your team.",
                               8: "Sofia Rossi is inactive and cannot own records."}
    owners = dict(db.session.execute(select(Lead.email, Lead.owner_id).where(Lead.email.like("%@x.com"))).all())
    assert owners == {"a@x.com": uid("rep1@example.com"), "e@x.com": uid("rep2@example.com"),
                      "f@x.com": uid("manager@example.com")}
    north = db.session.scalar(select(Team.id).where(Team.name == "North"))
    assert set(db.session.scalars(select(Lead.team_id).where(Lead.email.like("%@x.com")))) == {north}
    rejects = client.get(f"/import/{imp.id}/rejects.csv").get_data(as_text=True)
    assert "Hugo Martin is not in your team." in rejects and "rep4@example.com" in rejects


def test_an_owner_name_two_users_share_is_refused_with_the_way_out(client, auth, app):
    db.session.get(User, uid("rep2@example.com")).name = "Ana Ruiz"
    db.session.commit()
    auth.login()
    report = run(client, upload(client, "Title,Lead Owner\nOne,Ana Ruiz\nTwo,rep1@example.com\n"))
    assert report["counts"]["create"] == 1
    assert reasons(report) == {2: "More than one user or pool is called “Ana Ruiz”: use the user's email."}


def test_a_tampered_default_owner_outside_the_team_is_refused(client, auth, app):
    auth.login("manager@example.com")
    imp = upload(client, "Title\nOne\n")
    response = client.post(f"/import/{imp.id}", data={"col_0": "title", "mode": "run",
                                                      "owner": f"user:{uid('rep4@example.com')}"})
    assert response.status_code == 422 and "Choose an owner from the list." in response.get_data(as_text=True)
    assert db.session.scalar(select(Lead.id).where(Lead.title == "One")) is None


def lead_in_team(team: str) -> Lead:
    return db.session.scalar(select(Lead).join(Team, Lead.team_id == Team.id)
                             .where(Team.name == team, Lead.deleted_at.is_(None)).order_by(Lead.id))


def test_matching_sees_only_records_the_importer_may_see(client, auth, app):
    south, north = lead_in_team("South"), lead_in_team("North")
    south.email, north.email = "shared@x.com", "north@x.com"
    db.session.commit()
    south_before = (south.title, south.phone, south.owner_id)
    auth.login("manager@example.com")
    imp = upload(client, "Title,Email,Phone\nFrom file,shared@x.com,+1 555\nNorth again,north@x.com,+2 555\n")
    skip = run(client, imp, mode="dry")
    assert skip["counts"] == {"create": 1, "update": 0, "skip": 1, "reject": 0}
    assert reasons(skip) == {3: f"Same email as lead #{north.id}."}
    assert f"#{south.id}" not in client.get(f"/import/{imp.id}").get_data(as_text=True)

    report = run(client, imp, duplicates="update")
    assert report["counts"] == {"create": 1, "update": 1, "skip": 0, "reject": 0}
    db.session.expire_all()
    assert (south.title, south.phone, south.owner_id) == south_before
    assert (north.title, north.phone) == ("North again", "+2 555")
    created = db.session.scalar(select(Lead).where(Lead.email == "shared@x.com", Lead.id != south.id))
    assert created.owner_id == uid("manager@example.com") and created.team_id == north.team_id
    assert db.session.get(User, uid("manager@example.com")).team_id == north.team_id
