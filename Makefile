# Two commands on a fresh clone (see README):  make run   and   make test
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
PORT   ?= 8000

.PHONY: run test install install-dev browser lint bench messages

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Jigi needs Python 3.11 ($(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python requirements/base.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements/base.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Install, migrate, load a small demo (idempotent) and serve on the embedded SQLite default.
run: install
	$(BIN)/jigi migrate --no-input
	$(BIN)/jigi demo --members 300 --seed 1 --if-empty
	$(BIN)/jigi serve --port $(PORT) --no-migrate

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v /usr/bin/chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); }

# Install everything and run the whole test suite (lint first: a red lint is a red build).
# Two workers (this machine has two cores); a test file stays in one worker (--dist loadfile).
test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

bench: install-dev
	$(BIN)/python bench/run_all.py

messages: install-dev
	cd src/jigi && ../../$(BIN)/jigi makemessages -l fr -l bm -l en --no-obsolete && ../../$(BIN)/jigi compilemessages
