"""The config's [audit] section (bot/config/audit.py): where and how often the chain is anchored."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.policy_file import ConfigError, parse_policy
from tests.slack.harness import CONFIG


def policy(extra: str = ""):
    return parse_policy(tomllib.loads(CONFIG + extra), "clearance.toml")


def test_without_an_audit_section_anchors_stay_in_the_database_every_24h():
    assert policy().audit.channel is None
    assert policy().audit.anchor_every == timedelta(hours=24)


def test_the_audit_keys_are_read():
    audit = policy('\n[audit]\nchannel = "C0AUDIT"\nanchor_every = "12h"\n').audit
    assert (audit.channel, audit.anchor_every) == ("C0AUDIT", timedelta(hours=12))


def test_the_example_config_documents_the_default():
    text = Path("clearance.example.toml").read_text(encoding="utf-8")
    assert re.search(r"^\[audit\]", text, re.M) and re.search(r'^anchor_every = "24h"', text, re.M)
    assert re.search(r'^# channel = "C0EXAMPLEAUDIT"', text, re.M)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('channel = "#audit"', "clearance.toml: [audit]: channel = '#audit' is not a Slack channel id (C…/G…)"),
        ('channel = "C0EXAMPLEAUDIT"', "a placeholder from clearance.example.toml"),
        ('anchor_every = "daily"', "clearance.toml: [audit]: anchor_every: 'daily' is not a duration"),
        ('anchor_evry = "24h"', "clearance.toml: [audit]: unknown key 'anchor_evry'; did you mean 'anchor_every'?"),
    ],
)
def test_a_wrong_audit_key_says_where_and_how_to_fix_it(extra, said):
    with pytest.raises(ConfigError) as raised:
        policy(f"\n[audit]\n{extra}\n")
    assert said in str(raised.value)
