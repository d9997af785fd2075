"""The tool registry: one record per tool, the names it answers to (their forms are
workflows/tool_names.py), its status of record, and finding a tool by what someone typed.

A tool's status is built from three layers, each a `StatusMark` (what, why, who, when):

    decision   the latest word from the request workflow (opened, approved, rejected)
    directive  the latest active "Restricted" / "Approved for use" directive
    override   the latest active "Cease use" / "Suspended" directive

The status shown is the override if there is one, else the later of decision and directive
(an open request never displaces a decided status; workflows/request_effects.py and
workflows/directive_effects.py set the layers). Keeping the layers apart, rather than
one status field, is what lets revoking a cease-use order restore what was there before.

This module imports nothing from workflows.directives at run time (directives.py builds on it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from rapidfuzz import fuzz

from workflows.cleaning import clean_name
from workflows.tool_names import compact, lookalikes, normalise_name, tool_key, tool_lookalikes, tool_names

# --- status --------------------------------------------------------------------------------


class ToolStatus(StrEnum):
    # There is no "restricted": a Restricted directive means approved with conditions.
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"
    PROHIBITED = "prohibited"  # refused by the risk rules at intake (workflows.risk); the rule is kept
    CEASE_USE = "cease_use"
    SUSPENDED = "suspended"
    LAPSED = "lapsed"  # the licence expired unrenewed (workflows/licence_service.py): not a directive
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return STATUSES[self].label

    @property
    def meaning(self) -> str:
        """What it means for an officer, in one sentence."""
        return STATUSES[self].meaning


@dataclass(frozen=True)
class StatusRow:
    label: str
    meaning: str


# One row per status: what it is called and what it means (how it looks in Slack: bot/blocks/emoji.py).
STATUSES: dict[ToolStatus, StatusRow] = {
    ToolStatus.APPROVED: StatusRow("Approved", "It may be used for police work, for the purpose it was approved for."),
    ToolStatus.APPROVED_WITH_CONDITIONS: StatusRow(
        "Approved with conditions", "It may be used only under the conditions below."
    ),
    ToolStatus.UNDER_REVIEW: StatusRow("Under review", "Do not use it for police work until it is approved."),
    ToolStatus.REJECTED: StatusRow(
        "Rejected", "Do not use it for police work. A new request can be made if something has changed."
    ),
    ToolStatus.PROHIBITED: StatusRow(
        "Prohibited", "It must not be used for police work: the risk rules prohibit it (see below)."
    ),
    ToolStatus.CEASE_USE: StatusRow("Cease use", "Stop using it now, whatever was approved before."),
    ToolStatus.SUSPENDED: StatusRow(
        "Suspended", "Do not use it while it is reviewed again, whatever was approved before."
    ),
    ToolStatus.LAPSED: StatusRow(
        "Suspended — approval lapsed",
        "Do not use it: its approval expired and was not renewed. Its owner can renew it.",
    ),
    ToolStatus.UNKNOWN: StatusRow(
        "Unknown — request it with /request-tool",
        "Nobody has asked for it yet: request it with /request-tool before using it.",
    ),
}


# The statuses that a directive imposes over whatever the reviews decided.
OVERRIDES = (ToolStatus.CEASE_USE, ToolStatus.SUSPENDED)


@dataclass(frozen=True)
class StatusMark:
    status: ToolStatus
    source: str  # "REQ-0042" or "DIR-0007"
    by: str  # Slack user id
    since: datetime
    conditions: str = ""


@dataclass
class Tool:
    key: str
    name: str  # display name, as first seen
    aliases: frozenset[str] = frozenset()  # normalised names it is also known by
    decision: StatusMark | None = None
    directive: StatusMark | None = None
    override: StatusMark | None = None
    updated_at: datetime | None = None
    id: int | None = None
    version: int = 0  # optimistic lock: storage refuses a save from a stale copy

    @property
    def underlying(self) -> StatusMark | None:
        """The status of record ignoring any cease-use or suspension."""
        decision, directive = self.decision, self.directive
        if decision is None or (directive and decision.status is ToolStatus.UNDER_REVIEW):
            return directive
        if directive is None:
            return decision
        return decision if decision.since > directive.since else directive

    @property
    def current(self) -> StatusMark | None:
        return self.override or self.underlying

    @property
    def status(self) -> ToolStatus:
        return self.current.status if self.current else ToolStatus.UNKNOWN

    @property
    def status_since(self) -> datetime | None:
        return self.current.since if self.current else None

    @property
    def status_source(self) -> str:
        return self.current.source if self.current else ""

    @property
    def status_by(self) -> str:
        return self.current.by if self.current else ""

    @property
    def conditions(self) -> str:
        return self.current.conditions if self.current else ""

    @property
    def override_ref(self) -> str | None:
        return self.override.source if self.override else None

    def names(self) -> set[str]:
        """Every normalised name this tool answers to."""
        return tool_names(self.name, self.key, self.aliases)

    def lookalikes(self) -> frozenset[str]:
        """The look-alike forms of every name it answers to (see `lookalikes`)."""
        return tool_lookalikes(self.name, self.key, self.aliases)

    def state(self) -> str:
        """For the audit trail: 'approved', or 'cease_use over approved'."""
        if self.override:
            below = self.underlying.status if self.underlying else ToolStatus.UNKNOWN
            return f"{self.override.status} over {below}"
        return self.status.value


def new_tool(name: str) -> Tool:
    name = clean_name(name)
    return Tool(key=tool_key(name), name=name, aliases=frozenset({normalise_name(name)}))


def same_tool(name: str, tool: Tool) -> bool:
    """Exact identity (used to file a name under a tool): names that look the same, ignoring
    spaces and case ('Clear View' is 'Clearview'; 'Stingrаy' with a Cyrillic а is 'Stingray')."""
    wanted = lookalikes(name)
    return bool(wanted) and not wanted.isdisjoint(tool.lookalikes())


def with_alias(tool: Tool, name: str) -> Tool:
    alias = normalise_name(name)
    if not alias or alias in tool.aliases:
        return tool
    return dataclasses.replace(tool, aliases=tool.aliases | {alias})


DirectiveLayer = Literal["directive", "override"]


# --- finding a tool by what someone typed -------------------------------------------------
#
# Scores are bands, so that a better kind of match always ranks first:
#   100      exact: the key, the display name or an alias (spaces ignored), or a look-alike of one
#   90-99    the query starts a name ("clear" -> "clearview"); longer share scores higher
#   80-89    the query is inside a name ("ufed" -> "cellebrite ufed", "view" -> "clearview")
#   60-79    a small typo ("clearveiw"): rapidfuzz ratio of at least FUZZY_CUTOFF

FUZZY_CUTOFF = 80.0


def match_tools(query: str, tools: Iterable[Tool], limit: int = 5) -> list[tuple[Tool, float]]:
    wanted = normalise_name(query)
    if not wanted:
        return []
    looks = lookalikes(query)
    scored = [
        (tool, 100.0 if not looks.isdisjoint(tool.lookalikes()) else _score(wanted, tool.names())) for tool in tools
    ]
    hits = [(tool, score) for tool, score in scored if score > 0]
    hits.sort(key=lambda hit: (-hit[1], hit[0].name.casefold(), hit[0].key))
    return hits[:limit]


def _score(wanted: str, names: set[str]) -> float:
    return max((_score_one(wanted, name) for name in names if name), default=0.0)


def _score_one(wanted: str, name: str) -> float:
    w, n = compact(wanted), compact(name)
    if w == n:
        return 100.0
    share = len(w) / len(n)
    if len(w) >= 2 and n.startswith(w):
        return 90.0 + 9.0 * share
    if len(w) >= 3 and w in n:
        return 80.0 + 9.0 * share
    if len(w) < 3:
        return 0.0  # two letters are too few to guess a typo from
    ratio = max(
        fuzz.ratio(wanted, name),
        fuzz.ratio(w, n),
        *(fuzz.ratio(wanted, word) for word in name.split()),  # "cellbrite" ~ "cellebrite ufed"
    )
    return 60.0 + min(ratio - FUZZY_CUTOFF, 19.9) if ratio >= FUZZY_CUTOFF else 0.0
