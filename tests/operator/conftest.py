"""The operator's working directory, shared by the CLI tests here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.slack.harness import CONFIG, SECRET


@pytest.fixture
def operator(tmp_path, monkeypatch) -> Path:
    """A working directory with a config file and valid Slack settings, and no DATABASE_URL yet."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # serve must stop before calling Slack
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clearance.toml").write_text(CONFIG)
    return tmp_path
