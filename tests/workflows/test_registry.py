from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.directive_effects import apply_directive, lift_directive
from workflows.directive_kinds import KINDS, DirectiveKind
from workflows.directive_model import Directive
from workflows.registry import ToolStatus, match_tools, new_tool, same_tool
from workflows.request_effects import apply_request_decision
from workflows.tool_names import normalise_name, tool_key

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def directive(id: int, kind: DirectiveKind, hours: int = 0, text: str = "As written.") -> Directive:
    return Directive(kind, "clearview", "Clearview", text, "UCMD", at(hours), ("C1",), id=id)


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Clearview", "clearview"),
        ("Clearview AI", "clearview"),
        ("clearview.ai", "clearview"),
        ("CLEARVIEW", "clearview"),
        ("  Clearview   AI  ", "clearview"),
        ("https://www.clearview.ai/login", "clearview"),
        ("Clearview AI, Inc.", "clearview"),
        ("clearview.co.uk", "clearview"),
        ("Cellebrite UFED", "cellebrite ufed"),
        ("Dragon's Eye", "dragons eye"),
        ("Médiapart", "mediapart"),
        ("AI", "ai"),  # "ai" is dropped only when something else remains
        ("Node.js", "node js"),  # a dot, but not a web address
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalise_name(text: str, expected: str) -> None:
    assert normalise_name(text) == expected


def test_tool_key_is_a_slug() -> None:
    assert tool_key("Clearview AI") == tool_key("clearview.ai") == "clearview"
    assert tool_key("Cellebrite UFED") == "cellebrite-ufed"


def test_same_tool_ignores_spaces_but_not_spelling() -> None:
    clearview = new_tool("Clearview")
    assert same_tool("Clear View", clearview)
    assert same_tool("clearview.ai", clearview)
    assert not same_tool("Clearveiw", clearview)
    assert not same_tool("", clearview)


# --- matching ------------------------------------------------------------------------------

TOOLS = [new_tool(n) for n in ("Clearview AI", "ClearSky", "Cellebrite UFED", "GrayKey", "ShotSpotter")]


def names(hits) -> list[str]:
    return [tool.name for tool, _ in hits]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Clearview", "Clearview AI"),
        ("Clearview AI", "Clearview AI"),
        ("clearview.ai", "Clearview AI"),
        ("CLEARVIEW", "Clearview AI"),
        ("clear view", "Clearview AI"),
        ("clearveiw", "Clearview AI"),  # typo
        ("clearvew", "Clearview AI"),  # typo
        ("cellbrite", "Cellebrite UFED"),  # typo in the first word of two
        ("ufed", "Cellebrite UFED"),  # inside the name
        ("greykey", "GrayKey"),
        ("shot", "ShotSpotter"),  # partial
    ],
)
def test_match_finds(query: str, first: str) -> None:
    assert names(match_tools(query, TOOLS))[0] == first


@pytest.mark.parametrize("query", ["zzz", "spreadsheet", "", "   ", "c", "ai"])
def test_match_finds_nothing_for_unrelated(query: str) -> None:
    assert match_tools(query, TOOLS) == []


def test_exact_outranks_partial_outranks_typo() -> None:
    tools = [new_tool("Clearview"), new_tool("Clearviewer Pro"), new_tool("Cleerview")]
    hits = match_tools("clearview", tools)
    assert names(hits) == ["Clearview", "Clearviewer Pro", "Cleerview"]
    scores = [score for _, score in hits]
    assert scores[0] == 100 and 90 <= scores[1] < 100 and 60 <= scores[2] < 80


def test_partial_name_matches_several_in_a_fixed_order() -> None:
    hits = match_tools("clear", TOOLS)
    assert set(names(hits)) == {"Clearview AI", "ClearSky"}
    assert names(match_tools("clear", list(reversed(TOOLS)))) == names(hits)


def test_ties_are_broken_by_name() -> None:
    tools = [new_tool("Beta Scan"), new_tool("Acme Scan")]  # same length: same score
    assert names(match_tools("scan", tools)) == ["Acme Scan", "Beta Scan"]


def test_aliases_are_matched() -> None:
    tool = new_tool("Clearview")
    tool.aliases |= {"facial search"}
    assert names(match_tools("facial search", [tool])) == ["Clearview"]


def test_limit() -> None:
    tools = [new_tool(f"Scanner {n}") for n in range(10)]
    assert len(match_tools("scanner", tools, limit=3)) == 3


# --- status rules --------------------------------------------------------------------------


def test_new_tool_is_unknown() -> None:
    tool = new_tool("Clearview")
    assert tool.status is ToolStatus.UNKNOWN
    assert tool.status_source == "" and tool.status_since is None
    assert ToolStatus.UNKNOWN.label == "Unknown — request it with /request-tool"


def test_every_directive_kind_has_an_effect() -> None:
    assert set(KINDS) == set(DirectiveKind)


def test_opened_request_moves_unknown_to_under_review() -> None:
    tool = apply_request_decision(new_tool("Clearview"), "REQ-0001", "opened", "U1", at(0))
    assert (tool.status, tool.status_source, tool.status_by) == (ToolStatus.UNDER_REVIEW, "REQ-0001", "U1")


@pytest.mark.parametrize("final", ["approved", "rejected"])
def test_opened_request_never_overrides_a_final_status(final: str) -> None:
    tool = apply_request_decision(new_tool("Clearview"), "REQ-0001", final, "U1", at(0))
    again = apply_request_decision(tool, "REQ-0002", "opened", "U2", at(1))
    assert again.status is tool.status and again.status_source == "REQ-0001"


def test_opened_request_does_not_displace_a_directive() -> None:
    tool = apply_directive(new_tool("Clearview"), directive(1, DirectiveKind.RESTRICTED), at(0))
    tool = apply_request_decision(tool, "REQ-0002", "opened", "U2", at(1))
    assert tool.status is ToolStatus.APPROVED_WITH_CONDITIONS


def test_approval_with_conditions() -> None:
    tool = apply_request_decision(new_tool("X"), "REQ-0001", "approved", "U1", at(0), " Only on duty. ")
    assert tool.status is ToolStatus.APPROVED_WITH_CONDITIONS and tool.conditions == "Only on duty."


def test_withdrawn_request_clears_its_own_under_review_only() -> None:
    opened = apply_request_decision(new_tool("X"), "REQ-0001", "opened", "U1", at(0))
    assert apply_request_decision(opened, "REQ-0009", "withdrawn", "U9", at(1)) is opened
    assert apply_request_decision(opened, "REQ-0001", "withdrawn", "U1", at(1)).status is ToolStatus.UNKNOWN


def test_unknown_outcome_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        apply_request_decision(new_tool("X"), "REQ-0001", "maybe", "U1", at(0))


def test_rules_do_not_change_the_tool_given() -> None:
    tool = new_tool("Clearview")
    apply_directive(tool, directive(1, DirectiveKind.CEASE_USE), at(0))
    assert tool.status is ToolStatus.UNKNOWN


def approved() -> object:
    return apply_request_decision(new_tool("Clearview"), "REQ-0001", "approved", "U1", at(0))


@pytest.mark.parametrize(
    ("kind", "status", "source"),
    [
        (DirectiveKind.CEASE_USE, ToolStatus.CEASE_USE, "DIR-0007"),
        (DirectiveKind.SUSPENDED, ToolStatus.SUSPENDED, "DIR-0007"),
        (DirectiveKind.RESTRICTED, ToolStatus.APPROVED_WITH_CONDITIONS, "DIR-0007"),
        (DirectiveKind.APPROVED, ToolStatus.APPROVED, "DIR-0007"),
        (DirectiveKind.ADVISORY, ToolStatus.APPROVED, "REQ-0001"),  # informs, does not rule
    ],
)
def test_directive_on_an_approved_tool(kind: DirectiveKind, status: ToolStatus, source: str) -> None:
    tool = apply_directive(approved(), directive(7, kind, 1, "Only with a warrant."), at(1))
    assert (tool.status, tool.status_source) == (status, source)
    if kind is DirectiveKind.RESTRICTED:
        assert tool.conditions == "Only with a warrant."


def test_cease_overrides_approval_and_a_later_approval_keeps_the_cease() -> None:
    cease = directive(7, DirectiveKind.CEASE_USE, 1)
    tool = apply_directive(approved(), cease, at(1))
    tool = apply_request_decision(tool, "REQ-0002", "approved", "U2", at(2))
    assert tool.status is ToolStatus.CEASE_USE and tool.override_ref == "DIR-0007"
    assert tool.underlying.source == "REQ-0002"  # the approval is kept underneath
    assert tool.state() == "cease_use over approved"


def test_approved_directive_without_superseding_keeps_the_cease() -> None:
    tool = apply_directive(approved(), directive(7, DirectiveKind.CEASE_USE, 1), at(1))
    tool = apply_directive(tool, directive(8, DirectiveKind.APPROVED, 2), at(2))
    assert tool.status is ToolStatus.CEASE_USE


def test_revoking_the_cease_restores_what_was_underneath() -> None:
    cease = directive(7, DirectiveKind.CEASE_USE, 1)
    tool = lift_directive(apply_directive(approved(), cease, at(1)), cease, at(2))
    assert (tool.status, tool.status_source) == (ToolStatus.APPROVED, "REQ-0001")
    assert tool.updated_at == at(2)


def test_revoking_one_cease_leaves_another_still_in_force() -> None:
    first, second = directive(7, DirectiveKind.CEASE_USE, 1), directive(8, DirectiveKind.SUSPENDED, 2)
    tool = apply_directive(apply_directive(approved(), first, at(1)), second, at(2))
    tool = lift_directive(tool, second, at(3), still_active=[first])
    assert (tool.status, tool.status_source) == (ToolStatus.CEASE_USE, "DIR-0007")


def test_revoking_a_directive_no_longer_in_charge_changes_nothing() -> None:
    first, second = directive(7, DirectiveKind.CEASE_USE, 1), directive(8, DirectiveKind.SUSPENDED, 2)
    tool = apply_directive(apply_directive(approved(), first, at(1)), second, at(2))
    assert lift_directive(tool, first, at(3), still_active=[second]) is tool


def test_revoking_a_restriction_falls_back_to_the_request_decision() -> None:
    restricted = directive(7, DirectiveKind.RESTRICTED, 1)
    tool = lift_directive(apply_directive(approved(), restricted, at(1)), restricted, at(2))
    assert (tool.status, tool.status_source) == (ToolStatus.APPROVED, "REQ-0001")


def test_supersede_cease_by_approved_lifts_it() -> None:
    cease, approve = directive(7, DirectiveKind.CEASE_USE, 1), directive(8, DirectiveKind.APPROVED, 2)
    tool = apply_directive(apply_request_decision(new_tool("X"), "REQ-1", "rejected", "U", at(0)), cease, at(1))
    tool = apply_directive(lift_directive(tool, cease, at(2)), approve, at(2))
    assert (tool.status, tool.status_source, tool.override) == (ToolStatus.APPROVED, "DIR-0008", None)


def test_latest_of_decision_and_directive_wins() -> None:
    tool = apply_directive(approved(), directive(7, DirectiveKind.RESTRICTED, 1), at(1))
    tool = apply_request_decision(tool, "REQ-0002", "rejected", "U2", at(2))
    assert (tool.status, tool.status_source) == (ToolStatus.REJECTED, "REQ-0002")
