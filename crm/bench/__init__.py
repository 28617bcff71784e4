"""`make bench`: app operations timed against hand-written SQL on the same data, in the same run.

Each module in this package registers row functions with `@bench_row`; a row function takes a
`Bench` (app, data size) and returns `Result`s. Modules are found automatically.
`python -m crm.bench bulk map` runs only those modules' rows (`make bench ONLY="bulk map"`);
`--db postgres` runs on a scratch PostgreSQL database (`make bench DB=postgres`, see `_database`)
and `--leads N` seeds N leads instead of 100,000 (`make bench N=1000000`).
"""
import argparse
import gc
import importlib
import pkgutil
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROWS: list[Callable] = []


@dataclass
class Result:
    n: int
    op: str
    app_s: float
    sql_s: float | None
    extra: str = ""

    @property
    def ratio(self) -> str:
        return f"{self.app_s / self.sql_s:.2f}×" if self.sql_s else "—"


@dataclass
class Bench:
    app: object
    leads: int
    workdir: Path
    engine: str = "sqlite"  # sqlite | postgres


def bench_row(fn: Callable) -> Callable:
    ROWS.append(fn)
    return fn


def timed(fn: Callable, repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_rows() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def print_table(results: list[Result]) -> None:
    header = f"{'N':>8}  {'operation':<48} {'app s':>9} {'floor s':>9} {'ratio':>8}  notes"
    print(header)
    print("-" * len(header))
    for r in results:
        sql = f"{r.sql_s:9.4f}" if r.sql_s else f"{'—':>9}"
        print(f"{r.n:>8,}  {r.op:<48} {r.app_s:9.4f} {sql} {r.ratio:>8}  {r.extra}")


def main(argv: list[str] | None = None) -> None:
    from crm.bench._database import ENGINES, engine_from_env, scratch_database

    parser = argparse.ArgumentParser(prog="python -m crm.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=ENGINES, default=None, help="engine (default: DATABASE_URL's, else sqlite)")
    parser.add_argument("--leads", type=int, default=100_000, help="leads to seed (default 100,000)")
    parser.add_argument("only", nargs="*", help="bench modules to run (default: all)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    load_rows()
    modules = {row.__module__.rsplit(".", 1)[-1] for row in ROWS}
    unknown = set(args.only) - modules
    if unknown:
        sys.exit(f"No bench module named {', '.join(sorted(unknown))} (there are: {', '.join(sorted(modules))}).")
    rows = [row for row in ROWS if not args.only or row.__module__.rsplit(".", 1)[-1] in args.only]
    engine = args.db or engine_from_env()
    with tempfile.TemporaryDirectory() as tmp, scratch_database(engine, Path(tmp)) as url:
        bench = Bench(app=_seeded_app(url, args.leads), leads=args.leads, workdir=Path(tmp), engine=engine)
        results: list[Result] = []
        for row in rows:
            try:
                results += row(bench)
            except Exception as error:  # one broken row must not hide the others
                results.append(Result(0, f"{row.__module__.rsplit('.', 1)[-1]}.{row.__name__}", 0, None,
                                      f"FAILED: {error!r}"[:160]))
        print_table(results)


def _seeded_app(url: str, leads: int):
    """An app on `url`, migrated to the current head and seeded with `leads` demo leads."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from crm import create_app
    from crm.config import Config
    from crm.extensions import db
    from crm.services.demo import seed_demo

    app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                     HUEY_IMMEDIATE=True)
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        seed_demo(db.session, leads=leads, deals=max(2_000, leads // 50))
        db.session.commit()
        engine = db.engine.dialect.name
        if engine == "postgresql":  # as autovacuum would soon after a bulk load
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        version = db.session.scalar(text("SHOW server_version" if engine == "postgresql" else "SELECT sqlite_version()"))
        print(f"Seeded {leads:,} leads in {time.perf_counter() - start:.1f} s "
              f"({engine} {version}, {db.engine.url.render_as_string()})\n", flush=True)
    return app
