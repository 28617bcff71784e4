"""`make bench`: app operations timed against hand-written SQL on the same data, in the same run.

Each module in this package registers row functions with `@bench_row`; a row function takes a
`Bench` (app, data size) and returns `Result`s. Modules are found automatically.
`python -m crm.bench bulk map` runs only those modules' rows (`make bench ONLY="bulk map"`).
"""
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
    header = f"{'N':>8}  {'operation':<48} {'app s':>9} {'SQL s':>9} {'ratio':>8}  notes"
    print(header)
    print("-" * len(header))
    for r in results:
        sql = f"{r.sql_s:9.4f}" if r.sql_s else f"{'—':>9}"
        print(f"{r.n:>8,}  {r.op:<48} {r.app_s:9.4f} {sql} {r.ratio:>8}  {r.extra}")


def main(only: list[str] | None = None) -> None:
    from crm import create_app
    from crm.config import Config
    from crm.extensions import db
    from crm.services.demo import seed_demo

    load_rows()
    only = only if only is not None else sys.argv[1:]
    unknown = set(only) - {row.__module__.rsplit(".", 1)[-1] for row in ROWS}
    if unknown:
        sys.exit(f"No bench module named {', '.join(sorted(unknown))}.")
    rows = [row for row in ROWS if not only or row.__module__.rsplit(".", 1)[-1] in only]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = create_app(Config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'bench.db'}",
                         WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, HUEY_IMMEDIATE=True)
        with app.app_context():
            db.create_all()
            start = time.perf_counter()
            seed_demo(db.session, leads=100_000, deals=2_000)
            db.session.commit()
            print(f"Seeded 100,000 leads in {time.perf_counter() - start:.1f} s (SQLite, {workdir / 'bench.db'})\n")
        results: list[Result] = []
        for row in rows:
            try:
                results += row(Bench(app=app, leads=100_000, workdir=workdir))
            except Exception as error:  # one broken row must not hide the others
                results.append(Result(0, f"{row.__module__.rsplit('.', 1)[-1]}.{row.__name__}", 0, None,
                                      f"FAILED: {error!r}"[:120]))
        print_table(results)
