# synthreports: `make demo` starts the app on embedded defaults, `make test` runs the suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON_FOR_VENV = $(shell scripts/find_python.sh)

.PHONY: demo test lint fmt typecheck bench vendor messages clean

# Two install stamps: the demo needs only what running the app needs (the runtime
# dependencies, without byte-compiling every module of pandas/SciPy up front: Python compiles
# what it imports); the tests, lint and benchmarks add the project and its development extras.
$(VENV)/.runtime: pyproject.toml
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) scripts/requirements.py runtime | $(PY) -m pip install --quiet --no-compile -r /dev/stdin
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.runtime $@

# Install (runtime dependencies only), migrate, seed demo users and reports, start web +
# worker (SQLite, file broker, offline generator, DEBUG off). PORT=8000 by default.
# Ctrl-C stops both.
demo: $(VENV)/.runtime
	scripts/demo.sh

# The whole suite on PostgreSQL (127.0.0.1:5432 unless DATABASE_URL says otherwise).
test: $(VENV)/.installed
	# DEBUG=true: settings refuse to load without SECRET_KEY otherwise. The .mo is committed too.
	if command -v msgfmt >/dev/null; then DEBUG=true $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0; else echo "msgfmt missing (apt-get install gettext): using the committed .mo"; fi
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(VENV)/bin/mypy synthreports review generation
	# Architecture contracts (pyproject.toml [tool.importlinter]): one-way imports, no cycles.
	$(VENV)/bin/lint-imports --no-cache

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed
	$(PY) bench/run_all.py

# Refresh the committed front-end files from npm (htmx, axe-core).
vendor:
	npm install --no-save --no-audit --no-fund
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/axe-core/axe.min.js static/vendor/axe.min.js

messages: $(VENV)/.installed
	DEBUG=true $(PY) manage.py makemessages -l fr --ignore=.venv --ignore=node_modules --ignore=test-artifacts --no-location
	DEBUG=true $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) db.sqlite3* var staticfiles
