"""How each directive kind, tool status, request status and risk tier looks in Slack: one table each.

The words (labels, meanings, help) are the domain's: workflows/directive_kinds.py and
workflows/registry.py. tests/test_tables.py checks that every member has a row here.
"""

from __future__ import annotations

from workflows.directive_kinds import DirectiveKind
from workflows.registry import ToolStatus
from workflows.requests import RequestStatus
from workflows.risk import Tier

KIND_EMOJI: dict[DirectiveKind, str] = {
    DirectiveKind.CEASE_USE: ":no_entry:",
    DirectiveKind.SUSPENDED: ":double_vertical_bar:",
    DirectiveKind.RESTRICTED: ":warning:",
    DirectiveKind.APPROVED: ":white_check_mark:",
    DirectiveKind.ADVISORY: ":information_source:",
}

# The same, as Unicode: a header with typed text in it shows no shortcode as an emoji (emoji: false,
# bot/blocks/common.py header), so our own emoji go in as the characters themselves.
KIND_UNICODE: dict[DirectiveKind, str] = {
    DirectiveKind.CEASE_USE: "\u26d4",  # no_entry
    DirectiveKind.SUSPENDED: "\u23f8\ufe0f",  # double_vertical_bar
    DirectiveKind.RESTRICTED: "\u26a0\ufe0f",  # warning
    DirectiveKind.APPROVED: "\u2705",  # white_check_mark
    DirectiveKind.ADVISORY: "\u2139\ufe0f",  # information_source
}

STATUS_EMOJI: dict[ToolStatus, str] = {
    ToolStatus.APPROVED: ":white_check_mark:",
    ToolStatus.APPROVED_WITH_CONDITIONS: ":large_yellow_circle:",
    ToolStatus.UNDER_REVIEW: ":hourglass_flowing_sand:",
    ToolStatus.REJECTED: ":x:",
    ToolStatus.PROHIBITED: ":no_entry_sign:",
    ToolStatus.CEASE_USE: ":no_entry:",
    ToolStatus.SUSPENDED: ":double_vertical_bar:",
    ToolStatus.LAPSED: ":hourglass:",
    ToolStatus.UNKNOWN: ":grey_question:",
}

REQUEST_EMOJI: dict[RequestStatus, str] = {
    RequestStatus.PENDING: ":hourglass_flowing_sand:",
    RequestStatus.INFO_REQUESTED: ":question:",
    RequestStatus.APPROVED: ":white_check_mark:",
    RequestStatus.REJECTED: ":no_entry:",
    RequestStatus.WITHDRAWN: ":leftwards_arrow_with_hook:",
}

TIER_EMOJI: dict[Tier, str] = {
    Tier.PROHIBITED: ":no_entry_sign:",
    Tier.HIGH: ":red_circle:",
    Tier.MODERATE: ":large_orange_circle:",
    Tier.LOW: ":large_yellow_circle:",
    Tier.MINIMAL: ":white_circle:",
}
