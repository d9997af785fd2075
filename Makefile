# The two commands of the README: `make serve` runs the bot, `make test` runs every check
# (ruff lint and format check, mypy, pytest).
# Each builds .venv from requirements.lock the first time, and again whenever pyproject.toml or
# requirements.lock change, so a fresh clone needs nothing but Python 3.11+ and make.
#
#   make serve ARGS="--socket-mode"     arguments for `clearance serve`
#   make test ARGS="tests/workflows"    arguments for pytest
#   make demo ARGS="--seed --open"     arguments for `clearance demo`
#   make lock                           re-pin requirements.lock from pyproject.toml (pip-compile)

PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: serve test lock demo

serve: $(INSTALLED)
	$(VENV)/bin/clearance serve $(ARGS)

# Try it in a browser with no Slack workspace: the real bot, a stand-in for Slack, a Slack-like page
# (docs/demo.md). `make demo ARGS="--seed"` starts with a busy morning.
demo: $(INSTALLED)
	$(VENV)/bin/clearance demo $(ARGS)

test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest $(ARGS)

# Exact versions from the lock file first, then Clearance itself without resolving again.
$(INSTALLED): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# pip-compile runs in a throwaway venv so pip-tools is not a dependency of Clearance.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet pip-tools
	.lock-venv/bin/pip-compile --quiet --upgrade --extra test --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements.lock pyproject.toml
	rm -rf .lock-venv
