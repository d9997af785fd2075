"""The config's licence keys: defaults when absent, read when given, refused with the key and
the fix when wrong."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from bot.config.policy_file import ConfigError, parse_policy
from tests.slack.harness import CONFIG
from workflows.risk import Tier


def policy(extra: str = ""):
    return parse_policy(tomllib.loads(CONFIG + extra), "clearance.toml")


def test_a_config_without_the_new_keys_gets_the_documented_defaults():
    settings = policy().licences
    assert settings.valid_for == {Tier.HIGH: "12mo", Tier.MODERATE: "24mo", Tier.LOW: "36mo", Tier.MINIMAL: None}
    assert settings.remind_before == (timedelta(days=30), timedelta(days=7), timedelta(days=1))
    assert settings.conditions == {} and settings.attestation_notify == ()
    assert settings.emergency_due == timedelta(hours=24)
    assert policy().roles.usage_readers == ()


def test_the_new_keys_are_read():
    p = policy(
        """
[tiers.high]
conditions = ["A person checks every match", "Only with a case number"]
valid_for = "6mo"
[tiers.minimal]
valid_for = "none"
[licences]
remind_before = ["1d", "90s"]
[attestations]
notify = ["C0PRIV", "S0PRIVACY"]
[reports]
emergency_due = "4h"
"""
    )
    settings = p.licences
    assert settings.conditions[Tier.HIGH] == ("A person checks every match", "Only with a case number")
    assert settings.valid_for[Tier.HIGH] == "6mo" and settings.valid_for[Tier.MINIMAL] is None
    assert settings.remind_before == (timedelta(days=1), timedelta(seconds=90))
    assert settings.attestation_notify == ("C0PRIV", "S0PRIVACY") and settings.emergency_due == timedelta(hours=4)
    assert p.route_for(Tier.HIGH) == p.stage_keys  # a tier with licence keys only keeps every stage


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('[tiers.high]\nvalid_for = "forever"', "[tiers.high]: valid_for:"),
        ('[tiers.low]\nconditions = "one"', "[tiers.low]: conditions must be a list"),
        ('[licences]\nremind_before = ["30 days"]', "[licences] remind_before:"),
        ('[licences]\nremind_befor = ["30d"]', "did you mean 'remind_before'?"),
        ('[attestations]\nnotify = ["U0ANNA"]', "[attestations] notify must list channel ids"),
        ('[reports]\nemergency_due = "soon"', "[reports] emergency_due:"),
        ("[roles2]\nx = 1", "unknown key 'roles2'"),
    ],
)
def test_a_wrong_key_says_where_and_how_to_fix_it(extra, said):
    with pytest.raises(ConfigError) as refused:
        policy("\n" + extra + "\n")
    assert said in str(refused.value) and "clearance.toml" in str(refused.value)
