"""Every directive kind and every tool status has a row in each table that describes it.

The words live in the domain (workflows.directive_kinds.KINDS, workflows.registry.STATUSES),
the emoji in the Slack adapter (bot.blocks.emoji). A new kind or status without a row fails here,
not in front of an officer.
"""

from __future__ import annotations

import pytest

from bot.blocks.emoji import KIND_EMOJI, KIND_UNICODE, REQUEST_EMOJI, STATUS_EMOJI, TIER_EMOJI
from workflows.directive_kinds import KINDS, DirectiveKind
from workflows.registry import STATUSES, ToolStatus
from workflows.requests import RequestStatus
from workflows.risk import Tier


@pytest.mark.parametrize("kind", list(DirectiveKind))
def test_every_directive_kind_has_a_label_an_effect_help_and_an_emoji(kind: DirectiveKind) -> None:
    row = KINDS[kind]
    assert row.label.strip() and row.help.strip()
    assert len(row.help) <= 75  # the form shows it as a radio button's description (Slack: 75 characters)
    assert row.effect is None or row.effect.status in ToolStatus
    assert KIND_EMOJI[kind].startswith(":") and KIND_EMOJI[kind].endswith(":")


@pytest.mark.parametrize("status", list(ToolStatus))
def test_every_tool_status_has_a_label_a_meaning_and_an_emoji(status: ToolStatus) -> None:
    row = STATUSES[status]
    assert row.label.strip() and row.meaning.strip()
    assert STATUS_EMOJI[status].startswith(":") and STATUS_EMOJI[status].endswith(":")


def test_the_tables_have_no_rows_for_unknown_members() -> None:
    assert set(KINDS) == set(KIND_EMOJI) == set(KIND_UNICODE) == set(DirectiveKind)
    assert not any(":" in emoji for emoji in KIND_UNICODE.values())  # characters, not shortcodes
    assert set(STATUSES) == set(STATUS_EMOJI) == set(ToolStatus)
    assert set(REQUEST_EMOJI) == set(RequestStatus)  # the Home tab's list of a person's requests
    assert set(TIER_EMOJI) == set(Tier)  # review cards and DMs


def test_kinds_that_rule_set_the_status_they_are_named_for() -> None:
    # Only the overrides (cease use, suspended) sit above the reviews' decision.
    overrides = {k for k in DirectiveKind if k.effect and k.effect.layer == "override"}
    assert overrides == {DirectiveKind.CEASE_USE, DirectiveKind.SUSPENDED}
    assert {k for k in DirectiveKind if k.is_approval} == {DirectiveKind.APPROVED, DirectiveKind.RESTRICTED}
    assert DirectiveKind.ADVISORY.effect is None
