"""Mass change (reassign, change status, delete) of 10,000, 100,000 and all leads against one hand-written UPDATE.

The app side is the whole service call (permission guard, write lock, frozen set, re-count, batch and
feed entry, one history event per changed field, chunked UPDATE, commit). The SQL side is the single
UPDATE a person would write for the same rows, without history. Between runs the rows are put back by
hand, so both sides change every row. Peak RSS growth is measured around the largest reassign.
"""
import time
from collections.abc import Callable

from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import HistoryEvent, Lead, LeadStatus, User
from crm.services import bulk
from crm.services.filters import parse_filter
from crm.services.record_types import LEAD
from crm.services.trash import undo_batch

SIZES = (10_000, 100_000)  # and every lead, when there are more


@bench_row
def mass_change(bench: Bench) -> list[Result]:
    results = []
    with bench.app.app_context():
        _by_hand("CREATE TEMPORARY TABLE bench_bulk_saved AS SELECT id, owner_id, team_id, status_id, deleted_at, "
                 "deleted_batch_id, updated_at FROM lead")
        first_event = db.session.scalar(select(func.coalesce(func.max(HistoryEvent.id), 0)))
        try:
            results = _rows(bench)
        finally:
            _put_back(first_event)
    return results


def _rows(bench: Bench) -> list[Result]:
    results = []
    admin, ana, lars = (db.session.scalar(select(User).where(User.email == e))
                        for e in ("admin@example.com", "rep1@example.com", "rep2@example.com"))
    new, contacted = (db.session.scalar(select(LeadStatus.id).where(LeadStatus.name == n)) for n in ("New", "Contacted"))
    sizes = sorted({min(n, bench.leads) for n in (*SIZES, bench.leads)})
    for n in sizes:
        ids = db.session.scalars(select(Lead.id).where(Lead.deleted_at.is_(None)).order_by(Lead.id).limit(n)).all()
        sel = _selection(admin, ids if n < bench.leads else None)  # ticked ids (a lasso), or all matching
        # The same rows by hand: the ticked ids as a literal IN list, or every lead.
        where = "deleted_at IS NULL" + ("" if n >= bench.leads else f" AND id IN ({','.join(map(str, ids))})")
        rss_before = _rss_reset()
        results.append(_row(
            n, "mass reassign (owner + team)",
            lambda: _by_hand(f"UPDATE lead SET owner_id = {ana.id}, team_id = {ana.team_id} WHERE {where}"),
            lambda: bulk.reassign(db.session, sel, f"user:{lars.id}", expected=n),
            f"UPDATE lead SET owner_id = {lars.id}, team_id = {lars.team_id}, updated_at = CURRENT_TIMESTAMP WHERE {where}"))
        if n == sizes[-1]:
            results[-1].extra += f"; peak RSS growth {_rss_peak() - rss_before:.1f} MB"
        results.append(_row(
            n, "mass change stage (lead status)",
            lambda: _by_hand(f"UPDATE lead SET status_id = {new} WHERE {where}"),
            lambda: bulk.change_stage(db.session, sel, contacted, expected=n),
            f"UPDATE lead SET status_id = {contacted}, updated_at = CURRENT_TIMESTAMP WHERE {where}"))
        results.append(_undo_row(n, admin, sel, contacted,
                                 lambda: _by_hand(f"UPDATE lead SET status_id = {new} WHERE {where}")))
        undelete = f"UPDATE lead SET deleted_at = NULL, deleted_batch_id = NULL WHERE id <= {ids[-1]}"
        results.append(_row(
            n, "mass delete (to trash)", lambda: _by_hand(undelete),
            lambda: bulk.delete(db.session, sel, expected=n),
            f"UPDATE lead SET deleted_at = CURRENT_TIMESTAMP, deleted_batch_id = 'x' WHERE {where}"))
        _by_hand(undelete)
    return results


def _put_back(first_event: int) -> None:
    """Leave the data as the other bench rows expect it: original values, no bench history or batches."""
    _by_hand("UPDATE lead SET owner_id = s.owner_id, team_id = s.team_id, status_id = s.status_id, "
             "deleted_at = s.deleted_at, deleted_batch_id = s.deleted_batch_id, updated_at = s.updated_at "
             "FROM bench_bulk_saved AS s WHERE s.id = lead.id")
    _by_hand("CREATE TEMPORARY TABLE bench_bulk_batches AS SELECT DISTINCT batch_id AS id FROM history_event "
             f"WHERE id > {first_event} AND batch_id IS NOT NULL")
    _by_hand(f"DELETE FROM history_event WHERE id > {first_event}")
    _by_hand("DELETE FROM undone_record WHERE batch_id IN (SELECT id FROM bench_bulk_batches)")
    _by_hand("DELETE FROM batch WHERE id IN (SELECT id FROM bench_bulk_batches)")
    _by_hand("DROP TABLE bench_bulk_saved")
    _by_hand("DROP TABLE bench_bulk_batches")


def _selection(viewer: User, ids: list[int] | None) -> bulk.Selection:
    args = MultiDict({"ids": ",".join(map(str, ids))} if ids else {})
    return bulk.Selection.build(LEAD, parse_filter(db.session, LEAD, args, viewer), viewer, select_all=ids is None)


def _row(n: int, op: str, reset: Callable, app_op: Callable, sql: str) -> Result:
    """Best of two: reset, time the app; reset, time the hand-written UPDATE."""
    def app_run():
        outcome = app_op()
        db.session.commit()
        assert outcome.changed == n, (op, outcome.changed, n)

    app_s = min(_after(reset, app_run) for _ in range(2))
    sql_s = min(_after(reset, lambda: _by_hand(sql)) for _ in range(2))
    return Result(n, op, app_s, sql_s, "app incl. history events, batch, feed")


def _undo_row(n: int, admin: User, sel: bulk.Selection, status: int, reset: Callable) -> Result:
    """Best of two: change the status of n leads, then time the Undo of that batch against the change."""
    change_s, undo_s = [], []
    for _ in range(2):
        reset()
        start = time.perf_counter()
        outcome = bulk.change_stage(db.session, sel, status, expected=n)
        db.session.commit()
        change_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        undone = undo_batch(db.session, outcome.batch.id, admin)
        db.session.commit()
        undo_s.append(time.perf_counter() - start)
        assert undone.changed == n, (undone.changed, n)
    return Result(n, "undo of that status change", min(undo_s), min(change_s),
                  "floor = the mass change it undoes (goal ≤ 2×)")


def _after(reset: Callable, fn: Callable) -> float:
    reset()
    return timed(fn)


def _by_hand(sql: str) -> None:
    db.session.execute(text(sql))
    db.session.commit()
    db.session.expire_all()


def _rss_reset() -> float:
    """Current RSS in MB, after resetting the kernel's peak (VmHWM) so the next peak is this run's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    return _status("VmRSS")


def _rss_peak() -> float:
    return _status("VmHWM")


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return 0.0

