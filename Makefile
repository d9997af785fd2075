# The two commands of the README: `make serve` runs the bot, `make test` runs every check
# (ruff lint and format check, mypy, pytest).
# Each builds .venv from a lock file the first time, and again whenever pyproject.toml or that lock
# changes, so a fresh clone needs nothing but Python 3.11+ and make. Two locks, both with hashes and
# installed with --require-hashes: requirements.lock (what `clearance serve` needs; serve and demo
# install only it) and requirements-dev.lock (the same pins plus the `test` extra; test installs it).
#
#   make serve ARGS="--socket-mode"     arguments for `clearance serve`
#   make test ARGS="tests/workflows"    arguments for pytest
#   make demo ARGS="--seed --open"     arguments for `clearance demo`
#   make lock                           re-pin both locks from pyproject.toml (pip-compile)

PYTHON ?= python3
VENV := .venv
RUNTIME := $(VENV)/.runtime
INSTALLED := $(VENV)/.installed
PIP := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check

.PHONY: serve test lock demo

serve: $(RUNTIME)
	$(VENV)/bin/clearance serve $(ARGS)

# Try it in a browser with no Slack workspace: the real bot, a stand-in for Slack, a Slack-like page
# (docs/demo.md). `make demo ARGS="--seed"` starts with a busy morning.
demo: $(RUNTIME)
	$(VENV)/bin/clearance demo $(ARGS)

test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest $(ARGS)

# Exact versions from a lock, every file checked against its hash, then Clearance itself
# (--no-deps: its dependencies are the lock's; hash mode would refuse an unpinned requirement).
$(RUNTIME): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.lock
	$(PIP) --no-deps -e .
	touch $@

$(INSTALLED): requirements-dev.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements-dev.lock
	$(PIP) --no-deps -e .
	touch $@ $(RUNTIME)

# pip-compile runs in a throwaway venv so pip-tools is not a dependency of Clearance. The
# development lock is constrained by the runtime one: both install the same version of every
# package they share.
COMPILE = .lock-venv/bin/pip-compile --quiet --upgrade --generate-hashes --strip-extras --no-emit-index-url \
	--no-emit-find-links

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet pip-tools
	$(COMPILE) --output-file requirements.lock pyproject.toml
	$(COMPILE) --extra test --constraint requirements.lock --output-file requirements-dev.lock pyproject.toml
	rm -rf .lock-venv
