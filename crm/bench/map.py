"""Map rows: lasso selection vs shapely alone on a numpy array; viewport requests vs raw SQL."""
import numpy as np
import shapely
from sqlalchemy import select, text

from crm.bench import Bench, Result, bench_row, timed
from crm.extensions import db
from crm.models import Lead, User
from crm.services.filters import parse_filter
from crm.services.geometry import read_latlngs, select_ids
from crm.services.record_types import LEAD

# A free-hand loop around central Europe (Benelux, most of Germany), as a lasso would send it.
LASSO = [[54.5, 3.0], [54.8, 9.5], [53.5, 14.5], [50.5, 15.2], [47.8, 13.0], [47.3, 8.0],
         [48.8, 5.5], [49.8, 2.5], [51.5, 2.0]]


@bench_row
def lasso_selection(bench: Bench) -> list[Result]:
    with bench.app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        flt = parse_filter(db.session, LEAD, _NoArgs(), admin)
        area = read_latlngs(LASSO)
        ids: list[int] = []
        app_s = timed(lambda: ids.__setitem__(slice(None), select_ids(db.session, LEAD, flt, admin, area)), repeat=5)
        rows = db.session.execute(select(Lead.lat, Lead.lng).where(Lead.lat.is_not(None), Lead.deleted_at.is_(None))).all()
    lats, lngs = (np.array(c, dtype=float) for c in zip(*rows))
    polygon = shapely.Polygon([(lng, lat) for lat, lng in LASSO])
    shapely.prepare(polygon)
    found = []
    floor_s = timed(lambda: found.append(int(shapely.contains_xy(polygon, lngs, lats).sum())), repeat=5)
    return [Result(bench.leads, "lasso selection (SQL bbox + shapely)", app_s, floor_s,
                   f"{len(ids):,} selected; floor = contains_xy on {len(lats):,} numpy points, no DB"
                   + ("" if found[-1] == len(ids) else f" (floor found {found[-1]:,})"))]


@bench_row
def map_viewport(bench: Bench) -> list[Result]:
    client = bench.app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "demo"})
    results = []
    for label, bbox, zoom in (("map viewport, the world at zoom 2 (clusters)", "-180,-85,180,85", 2),
                              ("map viewport, Europe at zoom 4 (clusters)", "-25,34,45,72", 4),
                              ("map viewport, one city at zoom 12 (pins)", "-3.85,40.35,-3.55,40.5", 12)):
        url = f"/map/leads/points?bbox={bbox}&zoom={zoom}"
        body = client.get(url).get_data()
        app_s = timed(lambda: client.get(url), repeat=5)
        sql_s = _raw_viewport_sql(bench, bbox, zoom, clusters="clusters" in label)
        results.append(Result(bench.leads, label, app_s, sql_s,
                              f"payload {len(body) / 1024:.1f} KB (goal ≤ 150 KB), full request"))
    return results


def _raw_viewport_sql(bench: Bench, bbox: str, zoom: int, *, clusters: bool) -> float:
    west, south, east, north = (float(v) for v in bbox.split(","))
    cell = 64 * 360 / (256 * 2 ** zoom)
    params = dict(w=west, s=south, e=east, n=north, cell=cell)
    where = "deleted_at IS NULL AND lat BETWEEN :s AND :n AND lng BETWEEN :w AND :e"
    # the least SQL that answers: the grid for clusters, the rows for single pins
    query = text(f"""SELECT count(*), avg(lat), avg(lng), min(lat), min(lng), max(lat), max(lng) FROM lead
                     WHERE {where} GROUP BY CAST((lng + 180) / :cell AS INTEGER), CAST((lat + 90) / :cell AS INTEGER)"""
                 if clusters else f"SELECT id, lat, lng, status_id FROM lead WHERE {where}")
    with bench.app.app_context():
        conn = db.session.connection()
        return timed(lambda: conn.execute(query, params).all(), repeat=5)


class _NoArgs(dict):
    def getlist(self, key: str) -> list[str]:
        return []
