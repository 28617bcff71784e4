"""The import's fast inserts (COPY on PostgreSQL, executemany on SQLite): reserved ids and column defaults."""
from sqlalchemy import select

from crm.extensions import db
from crm.models import HistoryEvent
from crm.services.importing.inserting import insert_rows, reserve_ids


def test_reserved_ids_are_inserted_with_defaults_and_never_handed_out_again(app, admin):
    table = HistoryEvent.__table__
    ids = reserve_ids(db.session, table, 3)
    assert len(set(ids)) == 3
    insert_rows(db.session, table, [{"id": i, "record_type": "lead", "record_id": 7, "actor_id": admin.id,
                                     "kind": "create", "new": "it's \"quoted\"\ttabbed\nand\\slashed"} for i in ids])
    later = HistoryEvent(record_type="lead", record_id=8, actor_id=admin.id, kind="create")
    db.session.add(later)
    db.session.commit()
    assert later.id > max(ids)
    rows = db.session.execute(select(HistoryEvent.new, HistoryEvent.at).where(HistoryEvent.id.in_(ids))).all()
    assert [r.new for r in rows] == ["it's \"quoted\"\ttabbed\nand\\slashed"] * 3 and all(r.at for r in rows)
