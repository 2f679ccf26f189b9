# lerax developer commands. `make test` and `make demo` set everything up on a
# fresh machine (a .venv built with the default python3) and skip the install
# step when pyproject.toml has not changed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PYTEST_ARGS ?=

.PHONY: demo test bench lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras; reinstalled only when pyproject.toml changes.
$(VENV)/.stamp-core: pyproject.toml | $(PY)
	$(PIP) install -e ".[plot]"
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PIP) install -e ".[test]"
	@touch $@

$(VENV)/.stamp-bench: pyproject.toml | $(PY)
	$(PIP) install -e ".[test,bench]"
	@touch $@

demo: $(VENV)/.stamp-core
	$(PY) -m lerax train --out out/demo

# Two pytest runs, each with fresh xdist workers: one worker running the
# whole suite (thousands of compiled programs, MuJoCo, EGL, torch, wandb in
# one process) crashed deterministically inside an XLA compilation near the
# end of the run; splitting the suite keeps each worker's history short.
TESTS_HEAVY := tests/algorithm tests/callback tests/cli tests/compatibility \
	tests/curriculum tests/env tests/examples tests/export tests/render
TESTS_LIGHT := tests/advantage tests/buffer tests/distribution tests/policy \
	tests/space tests/target tests/utils tests/wrapper

# The heavy half hands tests out one at a time, longest first (tests/conftest.py);
# the light half has only short tests and sends them in chunks (less messaging).
# Even so, a long-lived worker still segfaults inside XLA's compiler now and
# then (a different small program each time; each passes alone): xdist
# replaces the crashed worker and a test that crashed one runs again there.
# Only crashes are rerun; a failing assertion fails at once.
RERUN_CRASHES := --reruns 2 --only-rerun "worker '.*' crashed"
test: $(VENV)/.stamp-test
	$(PY) -m pytest -n auto -q -p no:cacheprovider $(RERUN_CRASHES) $(PYTEST_ARGS) $(TESTS_HEAVY)
	$(PY) -m pytest -n auto -q -p no:cacheprovider --maxschedchunk=64 $(RERUN_CRASHES) $(PYTEST_ARGS) $(TESTS_LIGHT)

# Peers (rejax needs gymnax<1.0, SB3 needs torch) live in their own venv.
PEERS ?= .venv-peers
$(PEERS)/.stamp: bench/peers/requirements.txt
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip --disable-pip-version-check -q install -r bench/peers/requirements.txt
	@touch $@

bench: $(VENV)/.stamp-bench $(PEERS)/.stamp
	$(PY) bench/env_throughput.py
	$(PY) bench/train_ppo.py
	$(PY) bench/replay_sampling.py
	$(PY) bench/off_policy.py
	$(PY) bench/mujoco_throughput.py
	$(PY) bench/logging_overhead.py --demo

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

format: $(VENV)/.stamp-test
	$(VENV)/bin/ruff format src tests bench examples
	$(VENV)/bin/ruff check --fix src tests bench examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache .hypothesis
