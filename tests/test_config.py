"""The config file and settings: the issue's example works as written; mistakes say what to fix."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from bot.config import ConfigError, parse_policy
from bot.settings import load_settings
from tests.slack.harness import CONFIG


def test_the_documented_example_works_as_written():
    policy = parse_policy(tomllib.loads(CONFIG))
    assert [s.key for s in policy.stages] == ["it_security", "privacy", "command"]
    assert policy.stage("it_security").reviewers == ("U0SEC1", "S0SECGRP")
    assert policy.stage("command").remind_after == timedelta(hours=48)
    assert policy.roles.command_staff == ("U0CHIEF",)
    assert policy.reminders.check_every == timedelta(minutes=1)


def test_the_shipped_example_file_works(tmp_path):
    from pathlib import Path

    from bot.config import load_policy

    assert len(load_policy(Path(__file__).parent.parent / "clearance.example.toml").stages) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("stages"), "no [[stages]] defined"),
        (
            lambda d: d["stages"][0].update(channel="#itsec"),
            'stage "it_security": channel = "#itsec" is not a Slack channel id',
        ),
        (lambda d: d["stages"][1].update(reviewers=["bob"]), "'bob', which is not a Slack user id"),
        (lambda d: d["stages"][1].update(reviewers=[]), 'stage "privacy"'),
        (lambda d: d["stages"][2].update(remind_after="2 days"), "remind_after"),
        (lambda d: d["stages"][2].update(key="privacy"), 'two [[stages]] have key = "privacy"'),
        (lambda d: d["stages"][0].pop("name"), 'needs name = "…"'),
        (lambda d: d["roles"].update(command_staff="chief"), "command_staff"),
        (lambda d: d["reminders"].update(quiet_hours="late"), "quiet_hours"),
        (lambda d: d["reminders"].update(timezone="Mars/Base"), "timezone"),
    ],
)
def test_mistakes_name_the_key_and_the_fix(change, message):
    data = tomllib.loads(CONFIG)
    change(data)
    with pytest.raises(ConfigError) as raised:
        parse_policy(data, "clearance.toml")
    assert message in str(raised.value)
    assert "clearance.toml" in str(raised.value)


def test_settings_list_everything_missing_at_once(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_settings(env={"CLEARANCE_CONFIG": str(tmp_path / "missing.toml"), "DATABASE_URL": "mysql://x"})
    text = str(raised.value)
    for expected in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "config file not found", "mysql"):
        assert expected in text


def test_socket_mode_needs_an_app_token(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings(socket_mode=True, env={"SLACK_BOT_TOKEN": "xoxb-1", "CLEARANCE_CONFIG": str(path)})


def test_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG)
    settings = load_settings(
        env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "CLEARANCE_CONFIG": str(path)}
    )
    assert settings.api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///clearance.db"
