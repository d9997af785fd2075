"""The tool registry: one record per tool, its names, and its status of record.

A tool's status is built from three layers, each a `StatusMark` (what, why, who, when):

    decision   the latest word from the request workflow (opened, approved, rejected)
    directive  the latest active "Restricted" / "Approved for use" directive
    override   the latest active "Cease use" / "Suspended" directive

The status shown is the override if there is one, else the later of decision and directive
(an open request never displaces a decided status). Keeping the layers apart, rather than
one status field, is what lets revoking a cease-use order restore what was there before.

This module imports nothing from workflows.directives at run time (directives.py builds on it).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from rapidfuzz import fuzz

from workflows.cleaning import clean_name
from workflows.lookalike import data_version, mixed_scripts, skeleton

# --- names ---------------------------------------------------------------------------------

# Only these endings are treated as a web address's top-level domain ("clearview.ai" -> "clearview").
_TLDS = {
    "ai", "com", "io", "net", "org", "co", "app", "dev", "gov", "uk", "us", "ca", "au", "nz",
    "ie", "eu", "info", "biz", "tech", "me", "so", "tv", "cloud", "police",
}  # fmt: skip
# Dropped from the end of a name, while another word remains ("Clearview AI, Inc." -> "clearview").
# "ai" is here so that "Clearview AI" and "clearview.ai" meet "Clearview"; the cost is that
# "Meta AI" and "Meta" are one tool, which an alias can't undo but a rename of either can.
_TRAILING = {
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation", "co",
    "company", "gmbh", "ag", "sa", "pty", "ai",
}  # fmt: skip
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?([\w-]+(?:\.[\w-]+)+)(?:[/?#:]\S*)?$")


@functools.lru_cache(maxsize=16384)  # pure, and asked for every known tool's names on each look-up
def normalise_name(text: str) -> str:
    """The form names are compared in: 'Clearview AI', 'clearview.ai', 'CLEARVIEW' -> 'clearview'.

    It starts from what people see (workflows.cleaning.clean_name: NFKC, no invisible characters,
    right-to-left overrides resolved), so 'Ｓｔｉｎｇｒａｙ' and '\u202eyargnitS' are 'stingray'."""
    text = unicodedata.normalize("NFKD", clean_name(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = " ".join(_strip_domain(token) for token in text.split())
    text = re.sub(r"['’]", "", text)  # "Dragon's" -> "dragons", not "dragon s"
    words = re.sub(r"[\W_]+", " ", text).split()
    while len(words) > 1 and words[-1] in _TRAILING:
        words.pop()
    return " ".join(words)


def _strip_domain(token: str) -> str:
    """'https://www.clearview.co.uk/login' -> 'clearview'; anything not web-address-like is kept."""
    match = _URL.match(token)
    if not match:
        return token
    labels = match.group(1).split(".")
    if labels[-1] not in _TLDS:  # "node.js", "gpt-4.5": a dot, but not a web address
        return token
    while len(labels) > 1 and labels[-1] in _TLDS:
        labels.pop()
    return " ".join(labels)


def tool_key(text: str) -> str:
    """The registry key: the normalised name as a slug ('Cellebrite UFED' -> 'cellebrite-ufed')."""
    return "-".join(normalise_name(text).split())


def _compact(name: str) -> str:
    return name.replace(" ", "")  # "clear view" and "clearview" are the same name


@functools.lru_cache(maxsize=8192)
def lookalikes(text: str) -> frozenset[str]:
    """The forms in which `text` cannot be told apart from another name (TR39 skeletons, spaces
    and case aside): 'Stingray', 'Stingrаy' (Cyrillic а) and 'Ｓtingray' share one.

    Two forms, because some letters look alike only in capitals (Greek 'Η' and 'H') and others
    only in small letters: the skeleton of the name as typed, and of its normalised form."""
    forms = {_folded(normalise_name(skeleton(clean_name(text)))), _folded(normalise_name(text))}
    return frozenset(f for f in forms if f)


def tool_names(name: str, key: str, aliases: Iterable[str]) -> set[str]:
    """Every normalised name a tool answers to: its key, its name, its aliases."""
    return {key.replace("-", " "), normalise_name(name), *aliases}


def tool_lookalikes(name: str, key: str, aliases: Iterable[str]) -> frozenset[str]:
    """A tool's look-alike forms, which storage indexes (table tool_lookalikes) so that a name is
    filed under its tool without reading the whole registry."""
    return frozenset().union(lookalikes(name), *(lookalikes(n) for n in tool_names(name, key, aliases)))


LOOKALIKE_RULE = 1  # bump whenever `lookalikes`, `normalise_name` or `tool_lookalikes` give other forms


def lookalike_rule() -> str:
    """Everything the stored look-alike forms depend on: this code's rule, Unicode's version and the
    confusables data. Storage rebuilds its index whenever this differs from what it was built with
    (storage/lookalike_index.py), so a new Python or confusables release cannot leave it stale."""
    return f"rule {LOOKALIKE_RULE}; {data_version()}"


def _folded(name: str) -> str:
    for _ in range(4):  # skeleton and casefold, until neither changes anything ('I' -> 'l'; 'Ο' -> 'O' -> 'o')
        folded = unicodedata.normalize("NFKD", skeleton(name).casefold())
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        if folded == name:
            break
        name = folded
    return _compact(name)


def mixed_script_warning(name: str) -> str | None:
    """A warning for reviewers when a name mixes scripts ('Stingrаy': Latin with a Cyrillic а)."""
    found = mixed_scripts(clean_name(name))
    if not found:
        return None
    return (
        f"The tool's name mixes {' and '.join(found)} letters: it may be made to look like another tool's "
        "name. Check the vendor and website before deciding."
    )


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


DirectiveLayer = Literal["directive", "override"]
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
    w, n = _compact(wanted), _compact(name)
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
