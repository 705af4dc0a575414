# rdvpasseport — `make run` starts everything on a bare machine, `make test` runs lint and the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
# Development commands run with REDIS_URL decided: the local Redis when it answers, unless set (scripts/dev_env.py).
DEV_ENV := $(BIN)/python scripts/dev_env.py
DEV_MANAGE := $(DEV_ENV) $(MANAGE)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/rdvpasseport
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
WEB_PORT ?= 8000

.PHONY: install dirs run web worker beat test lint format migrations-check audit services-check e2e-deps bench-deps bench vendor clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# What a bare machine needs on disk: the SQLite file's folder, the filesystem broker's, the static files'.
dirs:
	@mkdir -p var/broker/queue var/broker/processed var/mail staticfiles

run: install dirs
	DEBUG=$${DEBUG:-1} $(DEV_MANAGE) migrate --noinput
	DEBUG=$${DEBUG:-1} $(DEV_MANAGE) import_communes
	DEBUG=$${DEBUG:-1} $(DEV_MANAGE) setup_schedules
	DEBUG=$${DEBUG:-1} $(DEV_MANAGE) setup_demo
	@echo
	@echo "  rdvpasseport: http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Admin: http://127.0.0.1:$(WEB_PORT)/admin/ — create an account with:"
	@echo "    DEBUG=1 $(BIN)/python manage.py createsuperuser"
	@echo "  Emails (alerts) are written as files under $(CURDIR)/var/mail/ unless EMAIL_URL is set."
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo
	@# DEMO=0 (environment or .env): honcho starts no demo booking server.
	DEBUG=$${DEBUG:-1} WEB_PORT=$(WEB_PORT) $(DEV_ENV) $(BIN)/honcho -f Procfile.dev start \
		-c demo=$$(DEBUG=$${DEBUG:-1} $(DEV_MANAGE) setup_demo --is-enabled >/dev/null 2>&1 && echo 1 || echo 0)

web: install dirs
	DEBUG=$${DEBUG:-1} $(DEV_MANAGE) runserver 127.0.0.1:$(WEB_PORT)

worker: install dirs
	DEBUG=$${DEBUG:-1} $(DEV_ENV) $(BIN)/celery -A rdvpasseport worker --loglevel=INFO

beat: install dirs
	DEBUG=$${DEBUG:-1} $(DEV_ENV) $(BIN)/celery -A rdvpasseport beat --loglevel=INFO

services-check: install
	@DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python scripts/services_check.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install dirs
	DEBUG=1 $(MANAGE) makemigrations --check --dry-run

e2e-deps:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the end-to-end tests..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Known vulnerabilities of the installed packages (PyPI's advisory data). A package the service does not know is
# listed as skipped, not failed: on a machine whose index is a mirror without advisories, nothing is audited.
audit: install
	$(BIN)/pip-audit --skip-editable --progress-spinner off

test: install lint migrations-check audit services-check e2e-deps
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The search benchmark's load generator: Debian's wrk.
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "Installing Debian's wrk for the search benchmark..."; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# The ingestion, the search at France scale (bench/search.py), alert matching (bench/alerts.py), then a soak of
# the web server: SOAK_SECONDS (default 600) of 20 clients, zero 5xx and flat memory expected.
bench: install services-check bench-deps
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/ingest.py
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/search.py --scale
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/alerts.py
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python bench/soak.py

# Refresh the vendored front-end libraries from the npm registry (the result is committed under static/vendor).
vendor:
	npm install --no-audit --no-fund --ignore-scripts
	mkdir -p static/vendor/leaflet/images
	# leaflet.js names its source map: the production static storage (hashed names) fails without it.
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map \
		node_modules/leaflet/dist/leaflet.css static/vendor/leaflet/
	cp node_modules/leaflet/dist/images/*.png static/vendor/leaflet/images/
	cp node_modules/leaflet/LICENSE static/vendor/leaflet/LICENSE
	# axe-core only serves the end-to-end tests' accessibility audit: it is not a static file of the site.
	mkdir -p tests/e2e/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core/

# Translations: French is the source language, English lives in locale/en/LC_MESSAGES/django.po (the source of
# truth, edited by hand) and its compiled django.mo (committed, so that neither the app nor CI needs gettext).
# After adding citizen-facing strings: `make messages`, translate the new entries of the .po (no "fuzzy"
# left), then `make messages` again to compile. Needs GNU gettext (apt-get install gettext).
# locale/fr only gives plural messages their French forms ("0 créneau", not "0 créneaux"): filled by a script.
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=var --ignore=staticfiles --ignore=test-artifacts \
	--ignore=bench --ignore=docs --ignore=static/vendor
.PHONY: messages
messages: install
	DEBUG=$${DEBUG:-1} $(MANAGE) makemessages -l en -l fr --no-obsolete --add-location=file $(MESSAGES_IGNORE)
	$(BIN)/python scripts/french_plurals.py locale/fr/LC_MESSAGES/django.po
	@# polib wraps long strings its own way: back to gettext's layout, as msgmerge writes the English catalogue.
	msgcat locale/fr/LC_MESSAGES/django.po -o locale/fr/LC_MESSAGES/django.po
	DEBUG=$${DEBUG:-1} $(MANAGE) compilemessages -l en -l fr $(MESSAGES_IGNORE)

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
