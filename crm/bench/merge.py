"""Duplicate groups over all leads (blocking keys, not all pairs) and a 5-lead merge with 1,000
activities, each against hand-written SQL on the same data."""
import time
from datetime import timedelta

from sqlalchemy import insert, select, text

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import Activity, Lead, User
from crm.models.mixins import utcnow
from crm.services.duplicates import duplicate_groups, find_similar, forget_groups
from crm.services.merge import merge_records

ROUNDS = 3


@bench_row
def duplicate_groups_over_all_leads(bench: Bench) -> list[Result]:
    with bench.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        groups = []
        app_s = timed(lambda: (forget_groups(), groups.append(duplicate_groups(db.session, "lead", admin))), repeat=2)
        # The floor: exact email and exact phone groups only, in SQL (no fuzzy names, no phonenumbers).
        sql = text("""
            SELECT key, count(*) FROM (
              SELECT lower(email) AS key FROM lead WHERE deleted_at IS NULL AND email != ''
              UNION ALL
              SELECT replace(replace(replace(phone, ' ', ''), '-', ''), '.', '') FROM lead
               WHERE deleted_at IS NULL AND phone != '') keys
            GROUP BY key HAVING count(*) > 1""")
        conn = db.session.connection()
        sql_s = timed(lambda: conn.execute(sql).all(), repeat=2)
        lead = db.session.get(Lead, bench.leads // 2)
        similar_s = timed(lambda: find_similar(db.session, "lead", lead, admin, limit=50), repeat=3)
    return [Result(bench.leads, "duplicate groups (blocking keys)", app_s, sql_s,
                   f"{len(groups[-1]):,} groups; SQL = exact email/phone GROUP BY only"),
            Result(bench.leads, "similar leads of one lead (record page)", similar_s, None,
                   "one candidate query + rapidfuzz")]


@bench_row
def merge_five_leads_with_1000_activities(bench: Bench) -> list[Result]:
    with bench.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        app_times, sql_times = [], []
        for _ in range(ROUNDS):
            ids = _five_leads_with_activities(admin)
            start = time.perf_counter()
            merge_records(db.session, "lead", ids, actor=admin)
            db.session.commit()
            app_times.append(time.perf_counter() - start)
            ids = _five_leads_with_activities(admin)
            start = time.perf_counter()
            _merge_by_hand(ids, admin.id)
            db.session.commit()
            sql_times.append(time.perf_counter() - start)
        moved = db.session.scalar(select(db.func.count(Activity.id)).where(Activity.lead_id == ids[0]))
    return [Result(5, "merge 5 leads with 1,000 activities", min(app_times), min(sql_times),
                   f"{moved:,} activities on the survivor; incl. history + undo record")]


def _five_leads_with_activities(admin: User) -> list[int]:
    now = utcnow()
    ids = []
    for n in range(5):
        lead = Lead(title=f"Bench merge {n}", person_name="Bench Person", email="bench@merge.example",
                    owner_id=admin.id, created_at=now - timedelta(days=10 - n), updated_at=now)
        db.session.add(lead)
        db.session.flush()
        ids.append(lead.id)
    db.session.execute(insert(Activity), [{"lead_id": ids[i % 5], "subject": f"Call {i}", "kind": "call",
                                           "created_at": now} for i in range(1000)])
    db.session.commit()
    return ids


def _merge_by_hand(ids: list[int], actor_id: int) -> None:
    """What a person would write: move the children, trash the others, one history row each."""
    survivor, others = ids[0], ids[1:]
    params = {"s": survivor, "now": utcnow(), "actor": actor_id}
    conn = db.session.connection()
    in_others = ",".join(map(str, others))
    for table in ("activity", "note", "email_message"):
        conn.execute(text(f"UPDATE {table} SET lead_id = :s WHERE lead_id IN ({in_others})"), params)
    conn.execute(text(f"UPDATE lead SET deleted_at = :now, merged_into_id = :s WHERE id IN ({in_others})"), params)
    conn.execute(text(f"""INSERT INTO history_event (record_type, record_id, actor_id, at, kind)
                          SELECT 'lead', id, :actor, :now, 'merge' FROM lead WHERE id IN ({in_others}, :s)"""),
                 params)
