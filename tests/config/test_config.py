"""The config file and settings: the issue's example works as written; mistakes say what to fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import timedelta

import pytest
from dotenv import dotenv_values

from bot.config.policy_file import ConfigError, load_policy, parse_policy
from bot.config.settings import load_settings
from tests.serving import ROOT
from tests.slack.harness import CONFIG


def test_the_documented_example_works_as_written():
    policy = parse_policy(tomllib.loads(CONFIG))
    assert [s.key for s in policy.stages] == ["it_security", "privacy", "command"]
    assert policy.stage("it_security").reviewers == ("U0SEC1", "S0SECGRP")
    assert policy.stage("command").remind_after == timedelta(hours=48)
    assert policy.roles.command_staff == ("U0CHIEF",)
    assert policy.reminders.check_every == timedelta(minutes=1)


def test_the_shipped_example_file_works_once_its_ids_are_replaced(tmp_path):

    from bot.config.policy_file import load_policy

    text = (ROOT / "clearance.example.toml").read_text(encoding="utf-8")
    (tmp_path / "clearance.toml").write_text(text.replace("EXAMPLE", "0X"), encoding="utf-8")
    assert len(load_policy(tmp_path / "clearance.toml").stages) == 3


def test_an_unedited_copy_of_the_example_file_is_refused_naming_the_placeholder(tmp_path):

    from bot.config.policy_file import load_policy

    example = ROOT / "clearance.example.toml"
    with pytest.raises(ConfigError, match="admins has 'U0EXAMPLEADMIN', a placeholder from clearance.example.toml"):
        load_policy(example)


def test_a_placeholder_channel_left_in_an_edited_copy_is_refused():
    text = CONFIG.replace('channel = "C0PRIV"', 'channel = "C0EXAMPLEPRIV"')
    with pytest.raises(ConfigError, match="stage \"privacy\": channel has 'C0EXAMPLEPRIV', a placeholder"):
        parse_policy(tomllib.loads(text))


def test_a_key_in_the_wrong_table_is_suggested_from_every_table():
    text = CONFIG.replace('check_every = "1m"', 'check_every = "1m"\nremind_afterr = "24h"')
    with pytest.raises(ConfigError, match="unknown key 'remind_afterr'; did you mean 'remind_after'\\? It goes under"):
        parse_policy(tomllib.loads(text))


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
        (lambda d: d["stages"][2].update(remind_after="1000000000d"), "longer than a year"),
        # A key Clearance does not read is a typo that would silently fall back to a default.
        (lambda d: d.update(role=d.pop("roles")), "unknown key 'role'; did you mean 'roles'?"),
        (
            lambda d: d["stages"][0].update(remind_afterr="12h"),
            "unknown key 'remind_afterr'; did you mean 'remind_after'?",
        ),
        (lambda d: d["reminders"].update(quiet_hour="20:00-07:00"), "did you mean 'quiet_hours'?"),
        (lambda d: d["roles"].update(command_stuff=["U0X"]), "did you mean 'command_staff'?"),
        (lambda d: d["stages"][0].update(escalate_after=True), "escalate_after must be a whole number"),
    ],
)
def test_mistakes_name_the_key_and_the_fix(change, message):
    data = tomllib.loads(CONFIG)
    change(data)
    with pytest.raises(ConfigError) as raised:
        parse_policy(data, "clearance.toml")
    assert message in str(raised.value)
    assert "clearance.toml" in str(raised.value)


def test_a_config_path_that_cannot_be_read_is_named_without_a_traceback(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load_policy(tmp_path)  # a folder, not a file
    assert str(tmp_path) in str(raised.value) and "cannot be read" in str(raised.value)


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


def test_the_placeholders_of_env_example_are_refused_with_where_to_get_the_real_ones(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG)
    example = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    with pytest.raises(ConfigError) as raised:
        load_settings(env={**example, "CLEARANCE_CONFIG": str(path)})
    text = str(raised.value)
    assert "SLACK_BOT_TOKEN is still the placeholder from .env.example" in text
    assert "OAuth & Permissions → Bot User OAuth Token" in text
    assert "SLACK_SIGNING_SECRET is still the placeholder from .env.example" in text
    assert "Basic Information → Signing Secret" in text
    assert "is missing" not in text  # one message per variable, not two


def test_serve_with_the_env_example_copied_unedited_stops_and_says_so(tmp_path):
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    (tmp_path / "clearance.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "CLEARANCE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is still the placeholder from .env.example" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "clearance.db").exists()  # refused before anything was created


# --- risk tiers and rules ------------------------------------------------------------------------

TIERS = """
[tiers.high]
stages = ["it_security", "privacy", "command"]
[tiers.low]
stages = ["it_security"]
[tiers.minimal]
stages = []

[[rules]]
id = "P5"
reason = "lawful authority has not been shown"
when = { lawful_authority = ["none"] }
effect = "high"

[[rules]]
id = "H6"
reason = "it handles information about people who are not suspects"
when = { data_kinds = ["non_suspects"], hosting = ["canada", "foreign"] }
tier = "high"
"""


def test_tiers_route_requests_and_rules_replace_or_add():
    from workflows.risk import Tier
    from workflows.risk_rules import DEFAULT_RULES

    policy = parse_policy(tomllib.loads(CONFIG + TIERS))
    assert policy.route_for(Tier.HIGH) == ("it_security", "privacy", "command")
    assert policy.route_for(Tier.LOW) == ("it_security",)
    assert policy.route_for(Tier.MINIMAL) == ()
    assert policy.route_for(Tier.MODERATE) == ("it_security", "privacy", "command")  # not named: every stage
    assert policy.route_for(Tier.PROHIBITED) == ()
    rules = {r.id: r for r in policy.rules}
    assert [r.id for r in policy.rules] == [r.id for r in DEFAULT_RULES] + ["H6"]
    assert rules["P5"].effect is Tier.HIGH and rules["P5"].reason == "lawful authority has not been shown"
    assert rules["H6"].when == {"data_kinds": {"non_suspects"}, "hosting": {"canada", "foreign"}}


def test_a_file_without_tiers_sends_every_tier_through_every_stage():
    from workflows.risk import ROUTED_TIERS
    from workflows.risk_rules import DEFAULT_RULES

    policy = parse_policy(tomllib.loads(CONFIG))
    assert all(policy.route_for(t) == ("it_security", "privacy", "command") for t in ROUTED_TIERS)
    assert policy.rules == DEFAULT_RULES


def test_the_shipped_example_of_tiers_and_rules_works_once_uncommented():

    from workflows.risk import Tier

    text = (ROOT / "clearance.example.toml").read_text(encoding="utf-8")
    start = text.index("# [tiers.high]")
    # Uncomment the TOML lines ("# [tiers.low]", "# stages = …"), leave the prose commented.
    uncommented = re.sub(r"(?m)^# (?=\[|[a-z_]+ = )", "", text[start:])
    text = (text[:start] + uncommented).replace("EXAMPLE", "0X")  # the placeholders, replaced
    policy = parse_policy(tomllib.loads(text), "clearance.example.toml")
    assert policy.route_for(Tier.LOW) == ("it_security",)
    assert policy.rules[-1].id == "H6"
    assert policy.listed_publicly == {Tier.MINIMAL, Tier.LOW, Tier.MODERATE}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[tiers.high]\nstages = ["it_security", "legal"]', "[tiers.high]: stages names 'legal', which is not the key"),
        ('[tiers.extreme]\nstages = ["it_security"]', "[tiers.extreme]: unknown tier"),
        ("[tiers.prohibited]\nstages = []", "a prohibited request is refused at once"),
        ("[tiers.low]\nreviewers = []", "[tiers.low] needs stages = [...]"),
        ('[tiers.low]\nstages = "it_security"', "stages must be a list of stage keys"),
        ('[tiers.low]\nstages = ["privacy", "privacy"]', "names a stage twice"),
        (
            '[[rules]]\nid = "X1"\nreason = "x"\neffect = "high"\nwhen = { colour = ["blue"] }',
            "unknown question 'colour'",
        ),
        (
            '[[rules]]\nid = "X1"\nreason = "x"\neffect = "high"\nwhen = { hosting = ["mars"] }',
            "rule \"X1\": when: hosting has unknown value(s) 'mars'",
        ),
        ('[[rules]]\nid = "X1"\nreason = "x"\neffect = "extreme"\nwhen = { hosting = ["foreign"] }', "not a tier"),
        ('[[rules]]\nid = "X1"\neffect = "high"\nwhen = { hosting = ["foreign"] }', 'needs reason = "…"'),
        ('[[rules]]\nid = "X1"\nreason = "x"\neffect = "high"', "needs a condition"),
        ('[[rules]]\nreason = "x"\neffect = "high"\nwhen = { hosting = ["foreign"] }', 'needs id = "…"'),
        (
            '[[rules]]\nid = "X1"\nreason = "x"\neffect = "high"\nwhen = { hosting = ["foreign"] }\n' * 2,
            'two [[rules]] have id = "X1"',
        ),
    ],
)
def test_tier_and_rule_mistakes_name_the_file_the_key_and_the_fix(extra, message):
    with pytest.raises(ConfigError) as raised:
        parse_policy(tomllib.loads(CONFIG + "\n" + extra), "clearance.toml")
    assert message in str(raised.value)
    assert "clearance.toml" in str(raised.value)


def test_list_publicly_defaults_to_every_tier_but_high_and_may_be_set_per_tier() -> None:
    from workflows.risk import Tier

    stage = {"key": "it_security", "name": "IT", "channel": "C0ITSEC", "reviewers": ["U0SEC1"]}
    assert parse_policy({"stages": [stage]}).listed_publicly == {Tier.MINIMAL, Tier.LOW, Tier.MODERATE}
    policy = parse_policy(
        {"stages": [stage], "tiers": {"high": {"list_publicly": True}, "low": {"stages": [], "list_publicly": False}}}
    )
    assert policy.listed_publicly == {Tier.MINIMAL, Tier.MODERATE, Tier.HIGH}
    assert Tier.HIGH not in policy.routes and policy.routes[Tier.LOW] == ()
    with pytest.raises(ConfigError, match=r"\[tiers.high\]: list_publicly must be true or false"):
        parse_policy({"stages": [stage], "tiers": {"high": {"list_publicly": "yes"}}})
