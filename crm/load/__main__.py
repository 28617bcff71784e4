"""`make load`: seed a PostgreSQL database once, start `make serve` on loopback, run locust headless
(100 users for 2 minutes by default), print requests/s, p50/p95/p99 and errors, stop the server.

    python -m crm.load [--users 100] [--time 2m] [--leads 100000] [--port 8100]

DATABASE_URL (default: the `crm_load` database on 127.0.0.1:5432) and REDIS_URL (default: Redis on
127.0.0.1:6379) are the server's. Traffic goes to 127.0.0.1 only; the run stops by itself.
"""
import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
GOALS = {"errors": 0, "rps": 100.0, "p95_ms": 500}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m crm.load", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--time", default="2m", help="run time, e.g. 2m or 90s")
    parser.add_argument("--leads", type=int, default=100_000, help="leads to seed into an empty database")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL")
           or "postgresql+psycopg://postgres@127.0.0.1:5432/crm_load",
           "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"}
    _prepare(env, args.leads)
    log = ROOT / "instance" / "load-serve.log"
    log.parent.mkdir(exist_ok=True)
    print(f"Starting make serve on 127.0.0.1:{args.port} (its log: {log})", flush=True)
    server = subprocess.Popen(["make", "--no-print-directory", "serve", f"SERVE_PORT={args.port}", "HOST=127.0.0.1"],
                              cwd=ROOT, env=env, start_new_session=True, stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    try:
        _wait_ready(args.port)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([VENV / "locust", "-f", Path(__file__).with_name("locustfile.py"), "--headless",
                            "-u", str(args.users), "-r", str(max(1, args.users // 10)), "-t", args.time,
                            "--host", f"http://127.0.0.1:{args.port}", "--csv", f"{tmp}/load", "--only-summary",
                            "--loglevel", "WARNING", "--stop-timeout", "10"], cwd=ROOT, check=False,
                           stdout=subprocess.DEVNULL)
            ok = _report(Path(f"{tmp}/load_stats.csv"), args)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    sys.exit(0 if ok else 1)


def _prepare(env: dict, leads: int) -> None:
    """Create and migrate the database; seed it when it has no users yet."""
    flask = [VENV / "flask", "--app", "wsgi"]
    for command in (["create-database"], ["db", "upgrade"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run(flask + ["seed-demo", "--leads", str(leads), "--deals", str(max(500, leads // 50))],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    print(seeded.stdout.strip() or "The database is already seeded; using it as it is.", flush=True)


def _wait_ready(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"make serve did not become ready on port {port} within {seconds:.0f} s")


def _report(stats: Path, args) -> bool:
    """Print one line per request kind and the total; True when the total meets the goals."""
    rows = list(csv.DictReader(stats.open()))
    print(f"\n{args.users} users for {args.time} against make serve (WEB_CONCURRENCY="
          f"{os.environ.get('WEB_CONCURRENCY', '2 per core')})\n")
    print(f"{'request':<28} {'count':>7} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for row in rows:
        name = "TOTAL" if row["Name"] == "Aggregated" else row["Name"]
        print(f"{name:<28} {row['Request Count']:>7} {row['Failure Count']:>6} {float(row['Requests/s']):>7.1f} "
              f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")
    total = next(r for r in rows if r["Name"] == "Aggregated")
    errors, rps, p95 = int(total["Failure Count"]), float(total["Requests/s"]), float(total["95%"])
    ok = errors <= GOALS["errors"] and rps >= GOALS["rps"] and p95 <= GOALS["p95_ms"]
    print(f"\n{'goals met' if ok else 'GOALS NOT MET'}: errors {errors} (goal 0), {rps:.1f} req/s (goal ≥ 100), "
          f"p95 {p95:.0f} ms (goal ≤ 500)")
    return ok


if __name__ == "__main__":
    main()
