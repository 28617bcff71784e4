"""List pages at scale: the filter bar's choices, the sort order's ties, and shared exact totals."""
import pytest
import redis
from sqlalchemy import select, update

from crm import create_app
from crm.config import TestConfig
from crm.extensions import db
from crm.models import Lead
from crm.models.records import LEAD_SORTS
from crm.services.editing import create_record
from crm.services.filters import distinct_values
from crm.services.permissions import visible_clause
from crm.services.record_types import LEAD
from tests.conftest import user


def test_every_sortable_lead_column_has_an_index_for_the_list():
    own_columns = {f.attr for f in LEAD.fields if f.sortable and not f.sort_by}  # status, owner: by a joined row
    assert own_columns <= set(LEAD_SORTS)


@pytest.mark.parametrize("email", ["admin@example.com", "rep1@example.com"])
def test_source_choices_are_the_distinct_sources_the_viewer_may_see(app, email):
    viewer = user(email)
    db.session.execute(update(Lead).where(Lead.id % 3 == 0).values(source="Zeppelin fair"))
    db.session.execute(update(Lead).where(Lead.id % 5 == 0).values(source=""))
    expected = db.session.scalars(select(Lead.source).distinct().where(
        Lead.source != "", visible_clause(Lead, viewer)).order_by(Lead.source)).all()
    assert expected and distinct_values(db.session, Lead.source, [visible_clause(Lead, viewer)]) == expected
    assert distinct_values(db.session, Lead.source, [visible_clause(Lead, viewer)], limit=2) == expected[:2]


@pytest.mark.parametrize("sort", ["value", "-value", "city", "-city"])
def test_ties_in_the_sort_column_go_by_id_in_the_same_direction(app, client, auth, sort):
    db.session.execute(update(Lead).values(value=100, city="Lund"))
    db.session.commit()
    auth.login()
    page = client.get(f"/leads/?sort={sort}&per_page=25", headers={"HX-Request": "true"}).get_data(as_text=True)
    ids = db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).order_by(Lead.id)).all()
    expected = (ids[::-1] if sort.startswith("-") else ids)[:25]
    shown = [int(part.split('"')[0]) for part in page.split('id="lead-')[1:]]
    assert shown == expected


def test_page_of_the_rows_fragment_needs_no_filter_bar(client, auth):
    auth.login()
    body = client.get("/leads/?sort=title", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="record-rows"' in body and "<html" not in body and 'id="filters"' not in body


def test_totals_are_shared_through_redis_and_follow_every_change(app, database_url, admin):
    """Two requests count once; a new lead (a history event) gives a new, exact total."""
    prefix_app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL="redis://127.0.0.1:6379/0")
    client = prefix_app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    cache = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        cache.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    before = set(cache.scan_iter("crm-count:*"))
    try:
        first = client.get("/leads/?q=a", headers={"HX-Request": "true"}).get_data(as_text=True)
        written = set(cache.scan_iter("crm-count:*")) - before
        assert len(written) == 1
        with prefix_app.app_context():
            total = db.session.scalar(select(db.func.count(Lead.id)).where(
                Lead.deleted_at.is_(None), Lead.title.ilike("%a%") | Lead.person_name.ilike("%a%")
                | Lead.company_name.ilike("%a%") | Lead.email.ilike("%a%") | Lead.phone.ilike("%a%")))
            assert f"<strong>{total}</strong>" in first
            client.get("/leads/?q=a", headers={"HX-Request": "true"})
            assert set(cache.scan_iter("crm-count:*")) - before == written  # read, not counted again
            create_record(db.session, LEAD, {"title": "Alpha new lead"}, db.session.get(type(admin), admin.id))
            db.session.commit()
        after = client.get("/leads/?q=a", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert f"<strong>{total + 1}</strong>" in after
    finally:
        for key in set(cache.scan_iter("crm-count:*")) - before:
            cache.delete(key)
        with prefix_app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("sort", ["title", "-created_at", "owner", "-status", "value"])
@pytest.mark.parametrize("email", ["admin@example.com", "rep1@example.com"])
def test_deep_pages_read_by_ids_first_show_the_same_rows_in_the_same_order(client, auth, monkeypatch, sort, email):
    auth.login(email)

    def shown(page: int) -> list[int]:
        body = client.get(f"/leads/?sort={sort}&per_page=7&page={page}",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
        return [int(part.split('"')[0]) for part in body.split('id="lead-')[1:]]

    plain = [shown(p) for p in (2, 3)]
    monkeypatch.setattr("crm.counts.DEEP_OFFSET", 1)
    assert [shown(p) for p in (2, 3)] == plain and plain[0]
