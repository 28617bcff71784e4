"""gunicorn settings for `make serve` (production): read from this file in the working directory.

WEB_CONCURRENCY worker processes (default: 2 per core), each with GUNICORN_THREADS threads. The app
keeps no state in a process (sessions are signed cookies, jobs and rate limits live in Redis), so
any worker serves any request and N boxes can sit behind a load balancer. Long work (large mass
changes, their undo, imports, conversions) runs in the job queue, so a request that outlives
GUNICORN_TIMEOUT is a bug, and the worker is restarted rather than left hanging.
"""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 20
keepalive = 5
max_requests, max_requests_jitter = 5000, 500  # recycle workers now and then: bounded memory over weeks
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # the app writes one JSON line per request (crm/request_log.py)
errorlog = "-"
raw_env = [f"LOG_FORMAT={os.environ.get('LOG_FORMAT', 'json')}"]
control_socket_disable = True  # one per user's home by default: two servers on one box would share it
