"""Administration: user forms, the leads switch panel, and edit forms that save untouched keep everything."""
import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.models import Setting, Team, User
from crm.models.pools import CaptureForm
from tests.conftest import user
from tests.form_html import untouched_form


def _columns(obj, names: tuple[str, ...]) -> dict:
    db.session.refresh(obj)
    return {n: getattr(obj, n) for n in names}


def _save_untouched(client, url: str, field: str):
    return client.post(url, data=MultiDict(untouched_form(client.get(url).get_data(as_text=True), field)))


USER_COLUMNS = ("name", "email", "role", "team_id", "active", "can_convert_deals", "password_hash")


@pytest.mark.parametrize("email", ["manager@example.com", "rep4@example.com", "admin@example.com"])
def test_saving_a_user_untouched_changes_nothing(client, auth, email):
    person = user(email)
    person.can_convert_deals = False
    db.session.commit()
    before = _columns(person, USER_COLUMNS)
    auth.login()
    assert _save_untouched(client, f"/admin/users/{person.id}", "team").status_code == 303
    assert _columns(person, USER_COLUMNS) == before


def test_the_user_form_opens_on_the_users_team_and_role(client, auth):
    manager = user("manager@example.com")
    auth.login()
    page = client.get(f"/admin/users/{manager.id}").get_data(as_text=True)
    assert f'<option selected value="{manager.team_id}">' in page
    assert '<option selected value="manager">' in page


def test_a_new_user_defaults_to_rep(client, auth):
    auth.login()
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '<option selected value="rep">' in page and '<option selected value="admin">' not in page
    form = dict(untouched_form(page, "role")) | {"name": "Nina New", "email": "nina@example.com",
                                                 "password": "long enough"}
    assert client.post("/admin/users/new", data=form).status_code == 303
    assert db.session.scalar(select(User.role).where(User.email == "nina@example.com")) == "rep"


@pytest.mark.parametrize("owner", ["user", "inactive user", "pool", ""])
def test_saving_a_capture_form_untouched_changes_nothing(client, auth, owner):
    from crm.models.pools import Pool
    rep = user("rep2@example.com")
    choices = {"user": f"user:{rep.id}", "inactive user": f"user:{rep.id}", "": ""}
    if owner == "pool":
        pool = Pool(name="Inbound", record_type="lead")
        db.session.add(pool)
        db.session.flush()
        choices["pool"] = f"pool:{pool.id}"
    rep.active = owner != "inactive user"
    form = CaptureForm(name="Contact us", slug="contact-us", fields=["person_name", "email", "message"],
                       owner_choice=choices[owner], source="Website", allowed_origins="https://www.example.com",
                       active=True)
    db.session.add(form)
    db.session.commit()
    columns = ("name", "fields", "owner_choice", "source", "allowed_origins", "active")
    before = _columns(form, columns)
    auth.login()
    assert _save_untouched(client, f"/admin/forms/{form.id}", "owner").status_code == 303
    assert _columns(form, columns) == before


@pytest.mark.parametrize("scope", ["global", "team"])
def test_the_leads_panel_shows_when_the_global_switch_overrides_a_team(client, auth, scope):
    north = db.session.scalar(select(Team).where(Team.name == "North"))
    if scope == "global":
        db.session.merge(Setting(key="use_leads", value="no"))
    else:
        north.leads_enabled = False
    db.session.commit()
    auth.login()
    page = client.get("/admin/").get_data(as_text=True)
    overridden = "off — leads are switched off for everyone"
    assert (overridden in page) == (scope == "global")
    if scope == "team":
        assert '<td data-label="Leads">off</td>' in page and '<td data-label="Leads">on</td>' in page
