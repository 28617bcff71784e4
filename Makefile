# Two commands: `make run` (set up and serve) and `make test` (set up and run every test).
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
WORKERS ?= 2

.PHONY: setup catalogs translations run serve load db test unit-sqlite unit-postgres e2e e2e-postgres bench chromium postgres clean

setup: $(VENV)/.installed static/node_modules/.installed catalogs

# Compiled catalogs (.mo, not committed): whichever .po file is newer than its .mo.
catalogs: $(VENV)/.installed
	$(PY) -m crm.catalogs compile

# Strings changed: extract them into crm/translations/messages.pot and merge it into each .po.
translations: $(VENV)/.installed
	$(PY) -m crm.catalogs update
	$(PY) -m crm.catalogs compile

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

static/node_modules/.installed: static/package.json static/package-lock.json
	cd static && npm ci --no-audit --no-fund
	touch $@

db: setup
	$(FLASK) db upgrade
	$(FLASK) seed-if-empty

run: db
	@echo "Serving on http://$(HOST):$(PORT) (log in as admin@example.com / demo)"
	$(VENV)/bin/huey_consumer crm.tasks.huey -w 1 -q --max-delay 1 & trap 'kill $$!' EXIT INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT)

# Production serving: gunicorn (gunicorn.conf.py) + the job consumer, PostgreSQL and Redis.
serve: export DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/crm
serve: export REDIS_URL ?= redis://127.0.0.1:6379/0
serve: SERVE_PORT ?= 8000
serve: JOB_WORKERS ?= 2
serve: setup
	$(FLASK) create-database
	$(FLASK) db upgrade
	@echo "Serving on http://$(HOST):$(SERVE_PORT) with $${WEB_CONCURRENCY:-2 per core} workers ($$DATABASE_URL, $$REDIS_URL)"
	$(VENV)/bin/huey_consumer crm.tasks.huey -w $(JOB_WORKERS) -k thread & trap 'kill $$!' EXIT INT TERM; \
	  HOST=$(HOST) PORT=$(SERVE_PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# A bounded locust run (100 users, 2 minutes) against `make serve` on loopback; prints req/s, p50/p95/p99, errors.
load: setup $(VENV)/.bench-installed
	$(PY) -m crm.load $(if $(USERS),--users $(USERS)) $(if $(TIME),--time $(TIME)) $(if $(N),--leads $(N))

$(VENV)/.bench-installed: pyproject.toml
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  (command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start) || \
	  echo "PostgreSQL is not running: its tests will be skipped."

test: setup chromium postgres unit-sqlite unit-postgres e2e e2e-postgres

unit-sqlite: setup
	$(PY) -m pytest -n $(WORKERS) -q tests

unit-postgres: setup
	TEST_DATABASE=postgresql $(PY) -m pytest -n $(WORKERS) -q tests

e2e: setup chromium
	$(PY) -m pytest -n $(WORKERS) -q e2e

e2e-postgres: setup chromium
	TEST_DATABASE=postgresql $(PY) -m pytest -n $(WORKERS) -q e2e

bench: setup
	$(PY) -m crm.bench $(if $(DB),--db $(DB)) $(if $(N),--leads $(N)) $(ONLY)

clean:
	rm -rf $(VENV) static/node_modules .pytest_cache
