# wzmon: `make demo` plays a simulated day into wzmon.db and opens the board; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEPS   := $(VENV)/.deps-runtime
TDEPS  := $(VENV)/.deps-test

.PHONY: demo demo-headless test test-fast bench browser postgres clean cog

$(DEPS): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TDEPS): pyproject.toml $(DEPS)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(DEPS)
	$(BIN)/wzmon demo

demo-headless: $(DEPS)
	$(BIN)/wzmon demo --no-dashboard

# Debian's chromium for the browser tests (never a downloaded browser); needs root or an installed chromium.
# A Chinese font too, or the test screenshots show boxes.
browser:
	@{ test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; } || { command -v apt-get >/dev/null \
	  && [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  chromium fonts-wqy-microhei >/dev/null) \
	  || { echo "chromium missing: run 'sudo apt-get install chromium fonts-wqy-microhei' (browser tests need /usr/bin/chromium)"; exit 1; }; }

# The local PostgreSQL the storage tests also run on (127.0.0.1:5432, user postgres, database test).
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { command -v pg_ctlcluster >/dev/null \
	  && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start && sleep 2; } \
	  || { echo "PostgreSQL is not running on 127.0.0.1:5432 (set WZMON_TEST_BACKENDS=sqlite to skip it)"; exit 1; }

# On every core (at most TEST_JOBS), a test file per worker at a time: each test has its own database and ports.
# TEST_JOBS=0 runs in this process, one test after another.
TEST_JOBS ?= 4
PYTEST := $(BIN)/python -m pytest -q $(if $(filter 0,$(TEST_JOBS)),,-n auto --maxprocesses $(TEST_JOBS) --dist loadfile)

test: $(TDEPS) browser postgres
	$(BIN)/lint-imports
	$(PYTEST)

test-fast: $(TDEPS)
	$(BIN)/lint-imports
	WZMON_TEST_BACKENDS=sqlite $(PYTEST) -m "not browser"

# Rewrite README's generated parts (--help texts, example files) from the real commands; `make test` checks them.
cog: $(TDEPS)
	$(BIN)/cog -r -I . README.md

bench: $(TDEPS) postgres
	@set -e; for f in tests/bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache tests/artifacts
