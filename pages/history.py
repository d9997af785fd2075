"""A tool's change history, in the public's words, from the audit trail.

Each audit action is mapped to a sentence; an action not in the table is left out rather than
shown raw, so a new kind of entry never reaches the public page before someone has worded it.
Only the kind of change and its date are shown: never who made it, never the reason they gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.directive_kinds import DirectiveKind
from workflows.policy import Policy
from workflows.public_record import Change
from workflows.registry import ToolStatus
from workflows.risk import Tier


@dataclass(frozen=True)
class HistoryLine:
    on: date
    change: str


def status_label(state: str) -> str | None:
    """'cease_use over approved' -> 'Cease use' (Tool.state() in the audit trail); None if unknown."""
    first = state.split(" over ")[0].strip()
    try:
        return ToolStatus(first).label if first != ToolStatus.UNKNOWN.value else "Unknown"
    except ValueError:
        return None


def local_date(at: datetime, policy: Policy) -> date:
    """The day as the service's own time zone ([reminders] timezone) counts it."""
    return at.astimezone(ZoneInfo(policy.reminders.timezone)).date()


def last_day(expires_at: datetime | None, policy: Policy) -> date | None:
    """The last day a licence is valid (it expires at the start of the next, or during this one)."""
    return local_date(expires_at - timedelta(microseconds=1), policy) if expires_at else None


def _tier(state: str) -> str | None:
    word = state.split(" ")[0] if state else ""
    return Tier(word).label if word in {t.value for t in Tier} else None


LICENCE_WORDS = {
    "licence:granted": "Licence granted",
    "licence:renewal_asked": "A renewal of its licence was asked for",
    "licence:renewal_closed": "The renewal asked for was closed without approval",
    "licence:extended": "Licence extended",
    "licence:lapsed": "Licence lapsed at its expiry",
}


def _stage(policy: Policy, action: str) -> str:
    return policy.name_of(action.split(":", 1)[1]) if ":" in action else ""


def sentence(change: Change, policy: Policy, directive_kinds: dict[str, DirectiveKind]) -> str | None:
    """The public sentence for one audit entry, or None to leave it out."""
    action, subject = change.action, change.subject
    if action == "tool:registered":
        label = status_label(change.to_state)
        return f"Entered in the register ({label})" if label else "Entered in the register"
    if action == "tool:status":
        before, after = status_label(change.from_state), status_label(change.to_state)
        if before and after and before != after:
            return f"Status changed from {before} to {after}"
        return f"Status confirmed as {after}" if after else None
    if action == "tool:alias_added":
        return "Another name for it was recorded"
    if action == "submitted":
        return "A request to use it was made"
    if action == "assessed":
        tier = _tier(change.to_state)
        return f"Risk assessed: {tier}" if tier else "Risk assessed"
    if action == "answers_changed":
        return "The answers about its risks were updated"
    if action in ("tier_raised", "tier_lowered"):
        tier = _tier(change.to_state)
        verb = "raised" if action == "tier_raised" else "lowered"
        return f"Risk tier {verb} to {tier}" if tier else f"Risk tier {verb}"
    if action == "approved:rules":
        return "Approved by the risk rules (no review stage needed)"
    if action == "refused:rules":
        return "Refused by the risk rules"
    if action.startswith("approved:"):
        return f"Approved at the {_stage(policy, action)} review"
    if action.startswith("rejected:"):
        return f"Rejected at the {_stage(policy, action)} review"
    if action.startswith("info_requested:"):
        return f"The {_stage(policy, action)} review asked for more information"
    if action == "info_provided":
        return "More information was given to the reviewers"
    if action == "withdrawn":
        return "A request was withdrawn"
    if action.startswith("escalated:"):
        return f"A request waiting at the {_stage(policy, action)} review was escalated"
    if action in LICENCE_WORDS:
        return LICENCE_WORDS[action]
    if action.startswith("directive:"):
        kind = directive_kinds.get(subject)
        what = f"{subject} ({kind.label})" if kind else subject
        verb = action.split(":", 1)[1]
        return f"Directive {what} {verb}" if verb in ("issued", "revoked", "superseded") else None
    return None


def history(
    changes: Iterable[Change], policy: Policy, directive_kinds: dict[str, DirectiveKind]
) -> tuple[HistoryLine, ...]:
    """The sentences, oldest first, each once per day (the same thing twice on one day says nothing more)."""
    lines: list[HistoryLine] = []
    seen: set[tuple[date, str]] = set()
    for change in sorted(changes, key=lambda c: c.at):
        said = sentence(change, policy, directive_kinds)
        on = local_date(change.at, policy)
        if said is None or (on, said) in seen:
            continue
        seen.add((on, said))
        lines.append(HistoryLine(on, said))
    return tuple(lines)
