"""Services of licences (issue 18): the final approval that grants one, extension, lapse (renewal:
workflows/licence_renewal.py).

Each runs inside the change's unit of work (bot/wiring/changes.py through workflows/commands.py), so an
approval and its licence are stored together or not at all; a form that fails a rule stores nothing.
The rules themselves are in workflows/licences.py; this module loads, checks who acts, stores,
audits and returns the events the bot turns into messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from workflows.audit import AuditEntry
from workflows.cleaning import clean_line
from workflows.errors import InvalidInput, LicenceRefused, NotFound, require_command_staff
from workflows.events import Event, RequestApproved, RequestApprovedByRules, TierChanged
from workflows.licence_terms import LicenceTerms, expiry, is_last_stage, tier_of, validity
from workflows.licences import EXPIRY_FOLLOW_UP as EXPIRY
from workflows.licences import (
    Licence,
    LicenceState,
    Scope,
    ScopeKind,
    extend,
    first_expiry_turn,
    grant,
    parse_period,
)
from workflows.policy import Policy
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.registry import ToolStatus
from workflows.request_effects import RequestOutcome
from workflows.requests import Outcome, ToolRequest, parse_reference
from workflows.review import record_decision
from workflows.review_rules import check_can_review
from workflows.tool_names import tool_key
from workflows.tool_services import record_request_outcome

SYSTEM = "clearance"  # the actor of what happens by itself (a lapse at expiry)
BEFORE_LICENCES = "Approved before licences existed: valid for everyone, with no expiry."
WITHOUT_FORM = "Approved without the licence form ({how}): valid for everyone."
# An extension of a licence whose tier is not known is bounded as a high-risk one's.
FALLBACK_VALIDITY = "12mo"


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceExtended(Event):
    licence: Licence
    tool_name: str
    by: str
    reason: str


@dataclass(frozen=True)
class LicenceLapsed(Event):
    """At expiry with no renewal: the tool is Suspended — approval lapsed; each of `told` gets one DM."""

    licence: Licence
    tool_name: str
    told: tuple[str, ...]


# --- the final approval ------------------------------------------------------------------------


async def approve_with_licence(
    uow: DirectiveUnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    terms: LicenceTerms,
    reviewers: Collection[str],
    now: datetime,
) -> list[Event]:
    """The last stage's approval and its licence, one change: the form is checked whole first, so
    a bad field stores neither; a second submission (or another reviewer) meets the decided stage."""
    request = await uow.requests.get(request_id)
    check_can_review(request, policy, stage_key, actor, reviewers)
    assert request is not None
    if not is_last_stage(policy, request, stage_key):
        raise LicenceRefused(f"{request.ref} has moved on: this is no longer its last stage, so approve it as usual.")
    tier = tier_of(request)
    owner_unit = terms.owner_unit if terms.owner_unit is not None else await renewed_unit(uow, request)
    licence = grant(
        tool_key=tool_key(request.tool_name),
        request_ref=request.ref,
        owner=request.requester_id,
        conditions=terms.conditions,
        scope=terms.scope,
        now=now,
        expires_at=expiry(terms, validity(policy, tier), now),
        list_publicly=terms.list_publicly,
        public_summary=terms.public_summary,
        tier=tier.value if tier else None,
        granted_by=actor,
        note=terms.note,
        owner_unit=owner_unit,
    )
    events = await record_decision(
        uow, policy, request_id, stage_key, actor, Outcome.APPROVED, terms.note, reviewers, now
    )
    licence = await _store_new(uow, policy, licence, actor, now)
    return [dataclasses.replace(e, licence=licence) if isinstance(e, RequestApproved) else e for e in events]


async def licence_unformed_approval(uow: DirectiveUnitOfWork, policy: Policy, event: Event) -> list[Event]:
    """An approval that did not come through the licence form (by the rules, a tier lowered past
    every stage, an older path) is a licence too: for everyone, for its tier's validity."""
    match event:
        case RequestApproved(request=r, licence=None):
            how = "one click at the last stage"
        case RequestApprovedByRules(request=r):
            how = "by the risk rules"
        case TierChanged(request=r, approved=d) if d is not None:
            how = "its risk tier was lowered past every stage"
        case _:
            return []
    if await uow.licences.for_request(r.ref) is not None:
        return []
    tier = tier_of(r)
    period = validity(policy, tier)
    licence = Licence(
        tool_key=tool_key(r.tool_name),
        request_ref=r.ref,
        owner=r.requester_id,
        conditions=tuple(d.note for d in r.decisions if d.outcome is Outcome.APPROVED and d.note),
        scope=Scope(ScopeKind.EVERYONE),
        valid_from=r.closed_at or r.updated_at or r.created_at,
        expires_at=period.after(r.closed_at or r.created_at) if period else None,
        list_publicly=False,
        tier=tier.value if tier else None,
        granted_by=r.decisions[-1].by if r.decisions else "",
        note=WITHOUT_FORM.format(how=how),
        owner_unit=await renewed_unit(uow, r),
    )
    await _store_new(uow, policy, licence, licence.granted_by, licence.valid_from)
    return []


async def schedule_expiry(uow: DirectiveUnitOfWork, policy: Policy, licence: Licence, now: datetime) -> None:
    """Its expiry reminders and lapse (workflows/followups/licence_expiry.py), in the same change."""
    reminders = getattr(uow, "reminders", None)  # the store's follow-ups; a unit of work without them keeps none
    if reminders is None or licence.id is None:
        return
    due = first_expiry_turn(licence, policy.licences.remind_before, now)
    state = licence.expires_at.isoformat() if licence.expires_at else ""
    await reminders(policy.reminders).follow_ups.schedule(EXPIRY, licence.id, due, state)


async def _store_new(uow: DirectiveUnitOfWork, policy: Policy, licence: Licence, actor: str, now: datetime) -> Licence:
    """Store a new licence (a renewal's supersedes the one it renews) and put it on the audit trail."""
    renewed = await uow.licences.with_renewal(licence.request_ref)
    if renewed is not None:
        await uow.licences.save(dataclasses.replace(renewed, renewal_ref=None))
    licence = await uow.licences.add(licence)
    await audit_licence(uow, licence, "licence:granted", actor, now, "", "valid", describe(licence))
    await schedule_expiry(uow, policy, licence, now)
    return licence


# --- extension ----------------------------------------------------------------------------------


async def extend_licence(
    uow: DirectiveUnitOfWork,
    policy: Policy,
    tool: str,
    by: str,
    is_command_staff: bool,
    until: date | None,
    reason: str,
    now: datetime,
) -> list[Event]:
    """Extend… by command staff: once, with a reason, by at most its tier's validity."""
    require_command_staff(is_command_staff, "extend a licence")
    licence = await current_licence(uow, tool)
    if until is None:
        raise InvalidInput({"until": "Choose the new last day of the licence."})
    bound = validity(policy, licence.tier) or parse_period(FALLBACK_VALIDITY)
    instant = datetime.combine(until + timedelta(days=1), time(0), tzinfo=now.tzinfo)
    after = extend(licence, instant, reason, bound, now)
    after = dataclasses.replace(after, extension_reason=clean_line(reason), lapsed_at=None)
    await uow.licences.save(after)
    await schedule_expiry(uow, policy, after, now)
    before = licence.expires_at.isoformat() if licence.expires_at else ""
    await audit_licence(uow, after, "licence:extended", by, now, before, instant.isoformat(), clean_line(reason))
    events: list[Event] = []
    stored = await uow.tools.get_by_key(licence.tool_key)
    name = stored.name if stored is not None else licence.tool_key
    if stored is not None and stored.decision and stored.decision.status is ToolStatus.LAPSED:
        # Extended after it lapsed: approved again, under its conditions.
        conditions = "; ".join(after.conditions)
        events += await record_request_outcome(
            uow, name, licence.request_ref, RequestOutcome.APPROVED, by, now, conditions
        )
    return [*events, LicenceExtended(after, name, by, clean_line(reason))]


# --- lapse --------------------------------------------------------------------------------------


async def lapse_licence(
    uow: DirectiveUnitOfWork, policy: Policy, licence_id: int, audience: Collection[str], now: datetime
) -> list[Event]:
    """At expiry with no renewal asked in time: the tool becomes Suspended — approval lapsed, and
    each authorised user (`audience`, resolved by the caller: its people, its groups' members; the
    owner always) is told once. Anything else (not yet expired, renewal under review, renewed or
    superseded, lapsed already) changes nothing: the caller may run it on every sweep."""
    licence = await uow.licences.get(licence_id)
    if licence is None or licence.lapsed_at is not None or licence.state(now) is not LicenceState.LAPSED:
        return []
    current = await uow.licences.current_for_tool(licence.tool_key)
    if current is None or current.id != licence.id:
        return []  # a newer licence (a renewal) took its place
    lapsed = dataclasses.replace(licence, lapsed_at=now)
    await uow.licences.save(lapsed)
    expired = licence.expires_at.isoformat() if licence.expires_at else ""
    await audit_licence(uow, lapsed, "licence:lapsed", SYSTEM, now, "valid", "lapsed", f"expired {expired}")
    events: list[Event] = []
    tool = await uow.tools.get_by_key(licence.tool_key)
    name = tool.name if tool is not None else licence.tool_key
    if tool is not None and tool.decision is not None and tool.decision.source == licence.request_ref:
        conditions = "; ".join(licence.conditions)
        events += await record_request_outcome(
            uow, name, licence.request_ref, RequestOutcome.LAPSED, SYSTEM, now, conditions
        )
    told = tuple(dict.fromkeys([licence.owner, *sorted(set(audience) - {licence.owner})]))
    return [*events, LicenceLapsed(lapsed, name, told)]


# --- helpers ------------------------------------------------------------------------------------


async def current_licence(uow: DirectiveUnitOfWork, tool: str) -> Licence:
    licence = await uow.licences.current_for_tool(tool)
    if licence is None:
        raise NotFound(f"licence for {tool}")
    return licence


async def renewed_unit(uow: DirectiveUnitOfWork, request: ToolRequest) -> str:
    """The owner unit of the licence `request` renews ("" if it renews none): a renewal approved
    without saying one (by the rules, one click, an older form) keeps it."""
    previous = await uow.licences.for_request(request.extends) if request.extends else None
    return previous.owner_unit if previous is not None else ""


async def request_for(uow: DirectiveUnitOfWork, ref: str) -> ToolRequest:
    request_id = parse_reference(ref)
    request = await uow.requests.get(request_id) if request_id is not None else None
    if request is None:
        raise NotFound(ref)
    return request


def describe(licence: Licence) -> str:
    """One line for the audit trail: who, until when, conditions, public listing, owner unit."""
    scope = licence.scope
    who = {
        ScopeKind.EVERYONE: "everyone",
        ScopeKind.REQUESTER: "the requester",
        ScopeKind.PEOPLE: "named people: " + ", ".join(scope.people),
        ScopeKind.GROUPS: "user groups: " + ", ".join(f"@{n}" for n in scope.group_names or scope.groups),
    }[scope.kind]
    until = licence.expires_at.isoformat() if licence.expires_at else "no expiry"
    parts = [f"for {who}", f"until {until}", f"conditions: {'; '.join(licence.conditions) or 'none'}"]
    parts.append("listed publicly" if licence.list_publicly else "not listed publicly")
    if licence.owner_unit:
        parts.append(f"owner unit: {licence.owner_unit}")
    if licence.note:
        parts.append(licence.note)
    return "; ".join(parts)


async def audit_licence(
    uow: DirectiveUnitOfWork,
    licence: Licence,
    action: str,
    actor: str,
    now: datetime,
    before: str,
    after: str,
    reason: str = "",
) -> None:
    await uow.audit.record(AuditEntry(licence.request_ref, action, actor, now, before, after, reason))
