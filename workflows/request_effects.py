"""How a request's outcome (opened, approved, rejected, prohibited, withdrawn, lapsed) moves a tool's
status of record: the mark it leaves in the tool's decision layer. How a directive moves it is
workflows/directive_effects.py.

Pure functions of a Tool (workflows/registry.py).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum

from workflows.registry import StatusMark, Tool, ToolStatus

# --- status rules --------------------------------------------------------------------------
#
#   event                          layer      effect
#   request opened                 decision   set to Under review, only if the tool has no decision yet
#   request approved               decision   Approved (Approved with conditions if conditions given)
#   request rejected               decision   Rejected
#   request refused by the rules   decision   Prohibited; conditions = the rules ("P1 — …")
#   request withdrawn              decision   cleared, if it is that request's Under review
#   "Restricted" directive         directive  Approved with conditions; conditions = directive text
#   "Approved for use" directive   directive  Approved
#   "Cease use" directive          override   Cease use  (a later approval does not lift it)
#   "Suspended" directive          override   Suspended
#   "Advisory" directive           -          no change: it informs, it does not rule
#   directive revoked/superseded   its layer  falls back to the latest still-active directive of that
#                                             layer, or is cleared; superseding then applies the new one
#
# All rules return a new Tool; the one given is not changed.


class RequestOutcome(StrEnum):
    """What became of a request, as the registry records it for the tool."""

    OPENED = "opened"
    APPROVED = "approved"
    REJECTED = "rejected"
    PROHIBITED = "prohibited"  # refused by the risk rules
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # its licence expired unrenewed


# What each kind of directive does here is a column of workflows.directive_kinds.KINDS (kind.effect).


def apply_request_decision(
    tool: Tool,
    request_ref: str,
    outcome: RequestOutcome,
    by: str,
    at: datetime,
    conditions: str = "",
) -> Tool:
    decision = tool.decision
    if outcome == RequestOutcome.OPENED:
        if decision is not None:
            return tool  # an open request never displaces a decided (or already pending) status
        mark = StatusMark(ToolStatus.UNDER_REVIEW, request_ref, by, at)
    elif outcome == RequestOutcome.APPROVED:
        conditions = (conditions or "").strip()
        status = ToolStatus.APPROVED_WITH_CONDITIONS if conditions else ToolStatus.APPROVED
        mark = StatusMark(status, request_ref, by, at, conditions)
    elif outcome == RequestOutcome.REJECTED:
        mark = StatusMark(ToolStatus.REJECTED, request_ref, by, at)
    elif outcome == RequestOutcome.PROHIBITED:  # `conditions` carries the rules that prohibit it, for /tool-status
        mark = StatusMark(ToolStatus.PROHIBITED, request_ref, by, at, (conditions or "").strip())
    elif outcome == RequestOutcome.LAPSED:  # Suspended — approval lapsed; its conditions kept for the record
        mark = StatusMark(ToolStatus.LAPSED, request_ref, by, at, (conditions or "").strip())
    elif outcome == RequestOutcome.WITHDRAWN:
        if decision is None or decision.status is not ToolStatus.UNDER_REVIEW or decision.source != request_ref:
            return tool
        mark = None
    else:
        raise ValueError(f"unknown request outcome {outcome!r}")
    return dataclasses.replace(tool, decision=mark, updated_at=at)
