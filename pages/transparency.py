"""What the transparency page shows, built from the record (pure: the page and its JSON are two views of this).

Three lists; a tool is in every one that applies, and described once, under the first:

1. **Under a directive in force**: any directive still active (cease use, suspended, restricted,
   approved for use, advisory), whatever its tier.
2. **Refused by the risk rules**: its status of record is Prohibited; the rules that fired are shown
   with their wording.
3. **Approved and listed publicly**: approved (with or without conditions), and its current licence
   is listed publicly (the licence form's choice; `[tiers.<tier>] list_publicly` is only that
   choice's default). A tool with no licence is not listed here.

Never shown: who asked, reviewed, issued or acknowledged anything; case numbers; the request's purpose,
notes and answers to reviewers; reviewers' notes and a directive's text (free text that could name
people). The summary and conditions are the licence's, and only when it is listed publicly (the
approver wrote them for the public); else only the fact that conditions apply. Authorised users are
groups ("Members of @major-crimes"), never people; the owner unit is the licence's ("Major Crimes").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from pages.history import HistoryLine, history, last_day, local_date
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveStatus
from workflows.policy import Policy
from workflows.public_record import Change, DirectiveFacts, RecordSnapshot, RequestFacts, RuleRef, ToolFacts
from workflows.registry import ToolStatus
from workflows.risk import Tier

NO_SUMMARY = "No public summary has been published."
CONDITIONS_UNPUBLISHED = "Conditions apply. Their public wording has not been published yet."
NO_CONDITIONS = "None"
NO_ONE = "No one"
NO_LICENCE = "All members (no licence says otherwise)"
APPROVED = (ToolStatus.APPROVED, ToolStatus.APPROVED_WITH_CONDITIONS)
SECTIONS = ("under_directive", "refused", "approved")


@dataclass(frozen=True)
class PublicDirective:
    reference: str
    kind: DirectiveKind
    issued_on: date
    acknowledgement_required: bool


@dataclass(frozen=True)
class PublicTool:
    key: str
    name: str
    sections: tuple[str, ...]  # the SECTIONS it is listed in, in their order; described under the first
    status: ToolStatus
    status_since: date | None
    tier: Tier | None
    listed_publicly: bool
    public_summary: str
    conditions: str
    approved_on: date | None
    review_due: date | None
    authorised_users: str
    owner_unit: str | None  # the licence's, as typed (escaped by the template); None: none said
    refused_by: tuple[RuleRef, ...]
    directives: tuple[PublicDirective, ...]
    history: tuple[HistoryLine, ...]


@dataclass(frozen=True)
class TransparencyView:
    as_of: datetime  # the latest change in the record
    tools: tuple[PublicTool, ...]

    def section(self, name: str) -> tuple[PublicTool, ...]:
        return tuple(t for t in self.tools if name in t.sections)


def transparency_view(snapshot: RecordSnapshot, policy: Policy, now: datetime) -> TransparencyView:
    requests_of: dict[str, list[RequestFacts]] = {}
    for request in snapshot.requests:
        if request.tool_key:
            requests_of.setdefault(request.tool_key, []).append(request)
    directives_of: dict[str, list[DirectiveFacts]] = {}
    for directive in snapshot.directives:
        directives_of.setdefault(directive.tool_key, []).append(directive)
    kinds = {d.ref: d.kind for d in snapshot.directives}
    changes_of: dict[str, list[tuple[int, Change]]] = {}  # by subject, with its place in the trail
    for place, change in enumerate(snapshot.changes):
        changes_of.setdefault(change.subject, []).append((place, change))
    tools = []
    for facts in snapshot.tools:
        tool = _public_tool(facts, requests_of.get(facts.key, []), directives_of.get(facts.key, []), policy)
        if tool is None:
            continue
        subjects = {f"tool:{facts.key}"}
        subjects |= {r.ref for r in requests_of.get(facts.key, [])}
        subjects |= {d.ref for d in directives_of.get(facts.key, [])}
        # In the trail's order (entries at the same moment too), whatever the order of `subjects`.
        entries = sorted(entry for subject in subjects for entry in changes_of.get(subject, ()))
        lines = history((change for _, change in entries), policy, kinds)
        tools.append(replace(tool, history=lines))
    tools.sort(key=lambda t: (SECTIONS.index(t.sections[0]), t.name.casefold(), t.key))
    # As of the latest change recorded, not of this read: the same record gives the same page (and ETag).
    as_of = max((c.at for c in snapshot.changes), default=now)
    return TransparencyView(as_of, tuple(tools))


def _public_tool(
    facts: ToolFacts, requests: list[RequestFacts], directives: list[DirectiveFacts], policy: Policy
) -> PublicTool | None:
    in_force = [d for d in directives if d.status is DirectiveStatus.ACTIVE]
    by_ref = {r.ref: r for r in requests}
    decision = facts.decision
    deciding = by_ref.get(decision.source) if decision else None
    approved_request = deciding if decision and decision.status in APPROVED else None
    source = approved_request or deciding or _latest_assessed(requests)
    tier = source.tier if source else None
    if facts.status is ToolStatus.PROHIBITED:
        tier = Tier.PROHIBITED
    listed = bool(facts.listed_publicly)
    refused = facts.status is ToolStatus.PROHIBITED or (
        decision is not None and decision.status is ToolStatus.PROHIBITED
    )
    sections = tuple(
        name
        for name, applies in zip(SECTIONS, (bool(in_force), refused, facts.status in APPROVED and listed), strict=True)
        if applies
    )
    if not sections:
        return None
    refused_by: tuple[RuleRef, ...] = ()
    if refused:
        refusing = deciding if deciding and deciding.prohibitions else _latest_refused(requests)
        refused_by = refusing.prohibitions if refusing else ()
    return PublicTool(
        key=facts.key,
        name=facts.name,
        sections=sections,
        status=facts.status,
        status_since=local_date(facts.status_since, policy) if facts.status_since else None,
        tier=tier,
        listed_publicly=listed,
        public_summary=facts.public_summary or NO_SUMMARY,
        conditions=_conditions(facts),
        approved_on=_approved_on(facts, policy),
        review_due=last_day(facts.review_due, policy),
        authorised_users=_authorised(facts),
        owner_unit=facts.owner_unit or None,
        refused_by=refused_by,
        directives=tuple(
            PublicDirective(d.ref, d.kind, local_date(d.issued_at, policy), d.ack_required) for d in in_force
        ),
        history=(),
    )


def _latest_assessed(requests: list[RequestFacts]) -> RequestFacts | None:
    return next((r for r in reversed(requests) if r.tier is not None), None)


def _latest_refused(requests: list[RequestFacts]) -> RequestFacts | None:
    return next((r for r in reversed(requests) if r.prohibitions), None)


def _conditions(facts: ToolFacts) -> str:
    if facts.public_conditions is not None:
        return facts.public_conditions
    if facts.has_conditions or facts.status is ToolStatus.APPROVED_WITH_CONDITIONS:
        return CONDITIONS_UNPUBLISHED
    return NO_CONDITIONS


def _authorised(facts: ToolFacts) -> str:
    if facts.status not in APPROVED:
        return NO_ONE
    return facts.authorised_users or NO_LICENCE


def _approved_on(facts: ToolFacts, policy: Policy) -> date | None:
    approvals = [m for m in (facts.decision, facts.directive) if m is not None and m.status in APPROVED]
    latest = max(approvals, key=lambda m: m.since, default=None)
    return local_date(latest.since, policy) if latest else None


def view_json(view: TransparencyView) -> dict[str, Any]:
    """/transparency.json: the same facts as the page (docs/transparency.md gives the schema)."""
    return {
        "schema": "clearance-transparency/1",
        "record_as_of": view.as_of.isoformat(),
        "tools": [_tool_json(t) for t in view.tools],
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _tool_json(tool: PublicTool) -> dict[str, Any]:
    return {
        "key": tool.key,
        "name": tool.name,
        "section": tool.sections[0],
        "sections": list(tool.sections),
        "status": tool.status.value,
        "status_label": tool.status.label,
        "status_since": _day(tool.status_since),
        "tier": tool.tier.value if tool.tier else None,
        "listed_publicly": tool.listed_publicly,
        "public_summary": tool.public_summary,
        "conditions": tool.conditions,
        "approved_on": _day(tool.approved_on),
        "review_due": _day(tool.review_due),
        "authorised_users": tool.authorised_users,
        "owner_unit": tool.owner_unit,
        "refused_by": [{"rule": r.id, "reason": r.reason} for r in tool.refused_by],
        "directives_in_force": [
            {
                "reference": d.reference,
                "kind": d.kind.value,
                "kind_label": d.kind.label,
                "issued_on": d.issued_on.isoformat(),
                "acknowledgement_required": d.acknowledgement_required,
            }
            for d in tool.directives
        ],
        "history": [{"date": line.on.isoformat(), "change": line.change} for line in tool.history],
    }
