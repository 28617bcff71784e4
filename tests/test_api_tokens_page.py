"""Settings → API tokens: shown once, stored hashed, revocable by their owner and by admins."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import ApiToken
from crm.services.api_tokens import issue_token
from tests.conftest import user


def test_a_new_token_is_shown_once_stored_hashed_and_works(client, auth):
    auth.login("rep1@example.com")
    page = client.post("/settings/api-tokens/", data={"name": "Zapier", "scope": "read", "expires": "30"})
    assert page.status_code == 201
    token = page.get_data(as_text=True).split('id="new-token" type="text" readonly value="')[1].split('"')[0]
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Zapier"))
    assert row.scope == "read" and row.expires_at is not None and token not in row.token_hash
    assert token not in client.get("/settings/api-tokens/").get_data(as_text=True)
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    db.session.refresh(row)
    assert row.last_used_at is not None


def test_a_user_revokes_their_token_but_not_someone_elses(client, auth):
    mine = issue_token(db.session, user("rep1@example.com"), "Mine")
    issue_token(db.session, user("rep2@example.com"), "Theirs")
    db.session.commit()
    ids = dict(db.session.execute(select(ApiToken.name, ApiToken.id)).all())
    auth.login("rep1@example.com")
    assert "Theirs" not in client.get("/settings/api-tokens/").get_data(as_text=True)
    assert client.post(f"/settings/api-tokens/{ids['Theirs']}/revoke").status_code == 403
    assert client.post(f"/settings/api-tokens/{ids['Mine']}/revoke").status_code == 303
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {mine}"}).status_code == 401


def test_admins_see_and_revoke_every_token(client, auth):
    issue_token(db.session, user("rep2@example.com"), "Theirs")
    db.session.commit()
    auth.login("admin@example.com")
    assert "Theirs" in client.get("/settings/api-tokens/").get_data(as_text=True)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Theirs"))
    assert client.post(f"/settings/api-tokens/{token_id}/revoke").status_code == 303
    assert db.session.get(ApiToken, token_id).revoked_at is not None
