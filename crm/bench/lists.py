"""The filtered leads list request (50 rows) against the same query in hand-written SQL."""
from sqlalchemy import select, text

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import User


@bench_row
def filtered_leads_list(bench: Bench) -> list[Result]:
    app = bench.app
    with app.app_context():
        owner = db.session.scalar(select(User.id).where(User.email == "rep1@example.com"))
    client = app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    url = f"/leads/?owner={owner}&q=nordic&sort=-created_at"
    assert client.get(url).status_code == 200
    app_s = timed(lambda: client.get(url, headers={"HX-Request": "true"}), repeat=5)
    sql = text("""
        SELECT lead.*, u.name, s.name FROM lead
        LEFT JOIN "user" u ON u.id = lead.owner_id LEFT JOIN lead_status s ON s.id = lead.status_id
        WHERE lead.deleted_at IS NULL AND lead.owner_id = :owner
          AND (lower(lead.title) LIKE '%nordic%' OR lower(lead.person_name) LIKE '%nordic%'
               OR lower(lead.company_name) LIKE '%nordic%' OR lower(lead.email) LIKE '%nordic%'
               OR lower(lead.phone) LIKE '%nordic%')
        ORDER BY lead.created_at DESC, lead.id DESC LIMIT 50""")
    count = text("""SELECT count(*) FROM lead WHERE deleted_at IS NULL AND owner_id = :owner
        AND (lower(title) LIKE '%nordic%' OR lower(person_name) LIKE '%nordic%'
             OR lower(company_name) LIKE '%nordic%' OR lower(email) LIKE '%nordic%' OR lower(phone) LIKE '%nordic%')""")
    with app.app_context():
        conn = db.session.connection()
        sql_s = timed(lambda: (conn.execute(sql, {"owner": owner}).all(),
                               conn.execute(count, {"owner": owner}).scalar()), repeat=5)
    return [Result(bench.leads, "leads list: owner + text filter, 50 rows", app_s, sql_s,
                   "full request incl. template")]


@bench_row
def deep_leads_page(bench: Bench) -> list[Result]:
    """A deep page of the list sorted by title: the app finds the page's ids first (crm/counts.py)."""
    page = max(1, min(1000, bench.leads // 50 - 1))
    client = bench.app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    url = f"/leads/?sort=title&page={page}"
    assert client.get(url).status_code == 200
    app_s = timed(lambda: client.get(url, headers={"HX-Request": "true"}), repeat=5)
    sql = text(f"""SELECT lead.*, u.name, s.name FROM lead
        LEFT JOIN "user" u ON u.id = lead.owner_id LEFT JOIN lead_status s ON s.id = lead.status_id
        WHERE lead.deleted_at IS NULL ORDER BY lead.title, lead.id LIMIT 50 OFFSET {(page - 1) * 50}""")
    with bench.app.app_context():
        conn = db.session.connection()
        sql_s = timed(lambda: (conn.execute(sql).all(),
                               conn.execute(text("SELECT count(*) FROM lead WHERE deleted_at IS NULL")).scalar()),
                      repeat=5)
    return [Result(bench.leads, f"page {page:,} of all leads, sorted by title", app_s, sql_s,
                   "full request incl. template; floor = plain OFFSET")]
