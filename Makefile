# workcred: two commands, `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.workcred-installed
NPM_STAMP := node_modules/.workcred-installed
# ACA-Py 1.7 in its own virtualenv (its pins conflict with .venv): interop tests and the verifier benchmark
ACAPY_VENV := .venv-acapy
ACAPY_BIN := $(ACAPY_VENV)/bin/aca-py
# pytest-xdist workers; serial by default: on this 2-core machine -n 2 saved ~20% (2:28 against 3:07) but a
# wall-clock bound (test_blank_node_clique_refused_fast, < 0.5 s for ~0.16 s of CPU) failed once in 3 clean runs
# under the CPU contention; `make test PYTEST_WORKERS=2` runs it in parallel
PYTEST_WORKERS ?= 0

.PHONY: help setup acapy contexts run test soak bench lint clean distclean

help:
	@echo "make run    - start registry, issuer, wallet and verifier on 127.0.0.1 (Ctrl-C stops them)"
	@echo "make test   - the whole test suite (skips say why; CI sets WORKCRED_REQUIRE_PG/ANVIL=1)"
	@echo "make soak   - kill -9 a bulk issuance 20 times per database and check nothing is issued twice"
	@echo "make bench  - run bench/bench_*.py and write BENCHMARKS.md"
	@echo "make acapy  - create .venv-acapy (ACA-Py 1.7 for interop tests and the benchmark baseline)"
	@echo "make lint   - ruff over the repo, mypy over agents/ and registry/"
	@echo "make clean  - remove ./var and caches (distclean also removes .venv, .venv-acapy and node_modules)"

$(PY):
	PYENV_VERSION=3.13.0 python3.13 -m venv $(VENV)

# reinstall only when pyproject.toml changed (the stamp is older than it)
$(PIP_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

# `npm ci` only when package-lock.json changed
$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(PIP_STAMP) $(NPM_STAMP)

# created only when missing; `scripts/acapy_venv.sh --force` rebuilds it
$(ACAPY_BIN):
	bash scripts/acapy_venv.sh

acapy: $(ACAPY_BIN)

contexts: setup
	$(PY) scripts/vendor_contexts.py

run: setup contexts
	WORKCRED_DEV=1 $(PY) -m workcred.run

test: setup acapy
	$(PY) scripts/vendor_contexts.py --check
	$(PY) scripts/bundle_js.py --check
	$(PY) scripts/build_styles.py --check
	node scripts/compile_contract.mjs --check
	$(PY) -m pytest -p no:cacheprovider -ra -n $(PYTEST_WORKERS) tests/

# kill -9 and resume of the bulk jobs, 20 trials on SQLite and 20 on PostgreSQL (make test runs 2 each)
soak: setup
	WORKCRED_KILL_TRIALS=$${WORKCRED_KILL_TRIALS:-20} $(PY) -m pytest -p no:cacheprovider -q tests/integration/test_bulk_kill.py

bench: setup acapy
	$(PY) scripts/bench_report.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy agents registry

clean:
	rm -rf var build .mypy_cache .ruff_cache .pytest_cache
	find . -path ./.venv -prune -o -path ./.venv-acapy -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(ACAPY_VENV) node_modules
