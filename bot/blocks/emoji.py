"""How each directive kind and each tool status looks in Slack: one table each.

The words (labels, meanings, help) are the domain's: workflows/directive_kinds.py and
workflows/registry.py. tests/test_tables.py checks that every kind and status has a row here.
"""

from __future__ import annotations

from workflows.directive_kinds import DirectiveKind
from workflows.registry import ToolStatus

KIND_EMOJI: dict[DirectiveKind, str] = {
    DirectiveKind.CEASE_USE: ":no_entry:",
    DirectiveKind.SUSPENDED: ":double_vertical_bar:",
    DirectiveKind.RESTRICTED: ":warning:",
    DirectiveKind.APPROVED: ":white_check_mark:",
    DirectiveKind.ADVISORY: ":information_source:",
}

STATUS_EMOJI: dict[ToolStatus, str] = {
    ToolStatus.APPROVED: ":white_check_mark:",
    ToolStatus.APPROVED_WITH_CONDITIONS: ":large_yellow_circle:",
    ToolStatus.UNDER_REVIEW: ":hourglass_flowing_sand:",
    ToolStatus.REJECTED: ":x:",
    ToolStatus.PROHIBITED: ":no_entry_sign:",
    ToolStatus.CEASE_USE: ":no_entry:",
    ToolStatus.SUSPENDED: ":double_vertical_bar:",
    ToolStatus.UNKNOWN: ":grey_question:",
}
