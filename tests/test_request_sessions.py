"""The test client gives every request its own database session, as production does."""
from sqlalchemy import func, select

from crm.extensions import db
from crm.models import Lead, Note


def test_what_a_view_does_not_commit_is_gone_after_the_request(app, client, auth, monkeypatch):
    auth.login()
    lead = db.session.scalar(select(Lead).order_by(Lead.id))
    notes = db.session.scalar(select(func.count(Note.id)))
    monkeypatch.setattr(type(db.session), "commit", lambda self: None)  # a view that forgets to commit
    assert client.post(f"/leads/{lead.id}/notes", data={"body": "hello"}).status_code == 303
    assert db.session.scalar(select(func.count(Note.id))) == notes
