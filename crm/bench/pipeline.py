"""Kanban stage change by drag (one request) and bulk deal -> lead of 10,000, against hand-written SQL."""
from sqlalchemy import insert, select, text

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import Deal, Note, Pipeline, User
from crm.models.mixins import utcnow
from crm.services.jobs import create_job
from crm.tasks import run_job

BULK = 10_000


@bench_row
def stage_change_by_drag(bench: Bench) -> list[Result]:
    app = bench.app
    with app.app_context():
        pipeline = db.session.scalar(select(Pipeline).order_by(Pipeline.position).limit(1))
        a, b = [s.id for s in pipeline.stages[:2]]
        deal_id = db.session.scalar(select(Deal.id).where(Deal.pipeline_id == pipeline.id, Deal.deleted_at.is_(None)).limit(1))
        admin_id = db.session.scalar(select(User.id).where(User.email == "admin@example.com"))
    client = app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    stages = iter([a, b] * 50)

    def drag():
        response = client.post(f"/pipeline/deals/{deal_id}/move", headers={"Accept": "application/json"},
                               data={"to": f"stage:{next(stages)}", "pipeline": pipeline.id})
        assert response.status_code == 200, response.data

    app_s = timed(drag, repeat=9)
    update = text("UPDATE deal SET stage_id = :s, updated_at = :now WHERE id = :id")
    log = text("""INSERT INTO history_event (record_type, record_id, actor_id, at, kind, field, old, new)
                  VALUES ('deal', :id, :actor, :now, 'update', 'stage_id', :old, :s)""")
    totals = text("""SELECT stage_id, count(id), coalesce(sum(value), 0) FROM deal
                     WHERE deleted_at IS NULL AND pipeline_id = :p GROUP BY stage_id""")
    with app.app_context():
        def by_hand():
            s = next(stages)
            db.session.execute(update, {"s": s, "now": utcnow(), "id": deal_id})
            db.session.execute(log, {"id": deal_id, "actor": admin_id, "now": utcnow(), "old": a, "s": s})
            db.session.execute(totals, {"p": pipeline.id}).all()
            db.session.commit()

        sql_s = timed(by_hand, repeat=9)
    return [Result(1, "kanban: stage change by drag (one request)", app_s, sql_s,
                   "request incl. auth, history, column totals")]


def _add_deals(prefix: str, n: int) -> list[int]:
    """n deals (each with a note and an upcoming activity) inserted set-based."""
    owner = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    pipeline = db.session.scalar(select(Pipeline).order_by(Pipeline.position).limit(1))
    now = utcnow()
    rows = [dict(title=f"{prefix} {i}", value=1000 + i, currency="EUR", pipeline_id=pipeline.id,
                 stage_id=pipeline.stages[0].id, owner_id=owner.id, team_id=owner.team_id, custom={},
                 source="Bench", email="", phone="", description="", address="", city="", country="",
                 created_at=now, updated_at=now) for i in range(n)]
    db.session.execute(insert(Deal), rows)
    ids = db.session.scalars(select(Deal.id).where(Deal.title.like(f"{prefix} %"))).all()
    db.session.execute(insert(Note), [dict(deal_id=i, body="bench note", created_at=now) for i in ids])
    db.session.execute(text("""INSERT INTO activity (deal_id, kind, subject, due_at, done, created_at)
                               SELECT id, 'call', 'Bench call', :due, FALSE, :now FROM deal WHERE title LIKE :p"""),
                       {"due": now, "now": now, "p": f"{prefix} %"})
    db.session.commit()
    return ids


HAND_WRITTEN = [
    """INSERT INTO lead (title, value, description, person_name, company_name, email, phone, source, tags,
                         status_id, owner_id, team_id, contact_id, organization_id, origin_deal_id, custom,
                         address, city, country, lat, lng, territory_id, created_at, updated_at)
       SELECT d.title, d.value, d.description, coalesce(c.name, ''), coalesce(o.name, ''), d.email, d.phone,
              'Deal', '', NULL, :actor, NULL, d.contact_id, d.organization_id, d.id, d.custom,
              d.address, d.city, d.country, d.lat, d.lng, d.territory_id, :now, :now
       FROM deal d LEFT JOIN contact c ON c.id = d.contact_id LEFT JOIN organization o ON o.id = d.organization_id
       WHERE d.title LIKE :p AND d.deleted_at IS NULL""",
    "CREATE TEMP TABLE conv AS SELECT id AS lead_id, origin_deal_id AS deal_id FROM lead WHERE created_at = :now",
    "CREATE INDEX conv_deal ON conv (deal_id)",
    """UPDATE note SET lead_id = (SELECT lead_id FROM conv WHERE conv.deal_id = note.deal_id), deal_id = NULL
       WHERE deal_id IN (SELECT deal_id FROM conv)""",
    """UPDATE email_message SET lead_id = (SELECT lead_id FROM conv WHERE conv.deal_id = email_message.deal_id),
       deal_id = NULL WHERE deal_id IN (SELECT deal_id FROM conv)""",
    """UPDATE activity SET lead_id = (SELECT lead_id FROM conv WHERE conv.deal_id = activity.deal_id), deal_id = NULL
       WHERE done = FALSE AND deal_id IN (SELECT deal_id FROM conv)""",
    "UPDATE deal SET deleted_at = :now WHERE id IN (SELECT deal_id FROM conv)",
    """INSERT INTO history_event (record_type, record_id, actor_id, at, kind, field, old, new)
       SELECT 'lead', lead_id, :actor, :now, 'create', NULL, NULL, NULL FROM conv
       UNION ALL SELECT 'lead', lead_id, :actor, :now, 'convert', 'deal', deal_id, 'from deal' FROM conv
       UNION ALL SELECT 'deal', deal_id, :actor, :now, 'convert', 'lead', lead_id, 'to lead' FROM conv""",
    "DROP TABLE conv",
]


@bench_row
def bulk_deal_to_lead(bench: Bench) -> list[Result]:
    app = bench.app
    with app.app_context():
        ids = _add_deals("BenchA", BULK)
        _add_deals("BenchB", BULK)
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        admin_id = admin.id

    def by_job():
        with app.app_context():
            job = create_job(db.session, "deal_conversion", db.session.get(User, admin_id),
                             "crm.services.conversion:convert_deals_job", total=BULK,
                             ids=ids, link="/leads/")
            run_job(job.id)
            job = db.session.merge(job)
            assert job.status == "done" and job.done == BULK, job.message

    app_s = timed(by_job)
    with app.app_context():
        params = {"actor": admin_id, "now": utcnow(), "p": "BenchB %"}

        def by_hand():
            for statement in HAND_WRITTEN:
                db.session.execute(text(statement), params)
            db.session.commit()

        sql_s = timed(by_hand)
    return [Result(BULK, "bulk deal -> lead (background job)", app_s, sql_s,
                   "chunks of 1,000, progress + commit per chunk, history")]
