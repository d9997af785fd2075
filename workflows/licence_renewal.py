"""Renewing a licence (issue 18): Renew… asks for a new review, and what its closing does.

Renew… by the owner (or command staff) files a new request with the previous answers, judged again
by the risk rules: something changed -> its tier's whole route; nothing changed -> the last stage
only. Asked before expiry, the licence stays valid ("renewal under review") until it is decided.

A renewal approved is a new licence (workflows/licence_service.py `approve_with_licence`, which
supersedes the one renewed). A renewal rejected, withdrawn or refused by the rules is not an outcome
of record for the tool (the licence it renews keeps deciding that, `renews_licence`):
- closed before expiry: the licence is valid until its expiry, reminded as before, and then lapses;
- closed after expiry (asked in time, so it did not lapse then): its lapse is scheduled again, due
  at once — the next sweep makes the tool Suspended — approval lapsed and tells each authorised user
  once, groups resolved through Slack as at any expiry;
- closed after it lapsed: it stays Suspended — approval lapsed.
Either way the owner is told which (`RenewalClosed`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from workflows.cleaning import clean_text
from workflows.errors import InvalidInput, LicenceRefused
from workflows.events import Event, RequestRefused, RequestRejected, RequestSubmitted, RequestWithdrawn
from workflows.licence_service import SYSTEM, audit_licence, current_licence, request_for, schedule_expiry
from workflows.licences import Change, Licence, LicenceState, ask_renewal, renewal_route
from workflows.policy import Policy
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.requests import RequestDraft, ToolRequest
from workflows.submission import submit_request

CHANGE_LABELS = {
    Change.NEW_DATA: "new data",
    Change.NEW_PURPOSE: "a new purpose",
    Change.NEW_VENDOR_TERMS: "new vendor terms",
    Change.OTHER: "other",
}


@dataclass(frozen=True)
class RenewalAsked(Event):
    licence: Licence
    request: ToolRequest  # the renewal's request (its cards are posted by RequestSubmitted)
    by: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class RenewalClosed(Event):
    """A renewal rejected, withdrawn or refused: what that leaves the licence, told to its owner."""

    licence: Licence  # as it is now: no renewal under review
    renewal: ToolRequest
    how: str  # "rejected", "withdrawn", "refused by the risk rules"
    tool_name: str
    state: LicenceState  # VALID (until its expiry) or LAPSED (Suspended — approval lapsed)


async def renew(
    uow: DirectiveUnitOfWork,
    policy: Policy,
    tool: str,
    by: str,
    changes: Collection[Change],
    what_changed: str,
    is_command_staff: bool,
    now: datetime,
) -> list[Event]:
    """Renew… by the owner (or command staff): a new request with the previous answers, judged again
    by the risk rules; something changed -> its tier's whole route, nothing -> the last stage only."""
    licence = await current_licence(uow, tool)
    if by != licence.owner and not is_command_staff:
        raise LicenceRefused(f"Only the licence's owner (<@{licence.owner}>) or command staff can renew it.")
    if licence.renewal_ref is not None:
        raise LicenceRefused(f"A renewal is already under review: {licence.renewal_ref}.")
    what_changed = clean_text(what_changed)
    kinds = tuple(dict.fromkeys(changes))
    if kinds and not what_changed:
        raise InvalidInput({"what_changed": "Say in a line or two what changed; the reviewers will read it."})
    original = await request_for(uow, licence.request_ref)
    said = ", ".join(CHANGE_LABELS[c] for c in kinds) or "nothing changed"
    notes = f"Renewal of {licence.ref} ({licence.request_ref}): {said}." + (f" {what_changed}" if what_changed else "")
    draft = RequestDraft(
        tool_name=original.tool_name,
        vendor=original.vendor,
        purpose=original.purpose,
        case_number=original.case_number,
        data_kinds=original.data_kinds,
        prior_use=original.prior_use,
        notes=notes[:3000],
    )
    answers = original.answers or None
    events = await submit_request(
        uow,
        policy,
        draft,
        licence.owner,
        now,
        answers,
        extends=licence.request_ref,
        route_for=lambda route: renewal_route(kinds, route),
    )
    submitted = next((e.request for e in events if isinstance(e, RequestSubmitted)), None)
    if submitted is None:  # the rules now prohibit it: refused at once, nothing is under review
        return events
    asked = dataclasses.replace(ask_renewal(licence, now), renewal_ref=submitted.ref)
    await uow.licences.save(asked)
    await audit_licence(uow, asked, "licence:renewal_asked", by, now, "", submitted.ref, notes)
    return [*events, RenewalAsked(asked, submitted, by, kinds)]


async def renews_licence(uow: DirectiveUnitOfWork, request: ToolRequest) -> Licence | None:
    """The licence `request` is the renewal under review of, if it is one."""
    if request.extends is None:
        return None
    return await uow.licences.with_renewal(request.ref)


async def renewal_closed(uow: DirectiveUnitOfWork, policy: Policy, event: Event) -> list[Event]:
    """A renewal rejected, withdrawn or refused by the rules: the licence it renewed is no longer
    "renewal under review". Before its expiry it stays valid until then (its reminders and lapse
    scheduled from now); after, its lapse is due at once, unless it lapsed already."""
    match event:
        case RequestRejected(request=request):
            how = "rejected"
        case RequestWithdrawn(request=request):
            how = "withdrawn"
        case RequestRefused(request=request):
            how = "refused by the risk rules"
        case _:
            return []
    licence = await renews_licence(uow, request)
    if licence is None:
        return []
    at = request.closed_at or request.updated_at or request.created_at
    closed = dataclasses.replace(licence, renewal_ref=None, renewal_asked_at=None)
    await uow.licences.save(closed)
    state = closed.state(at)
    after = "lapsed" if state is LicenceState.LAPSED else state.value
    await audit_licence(uow, closed, "licence:renewal_closed", SYSTEM, at, "renewal_under_review", after, request.ref)
    if closed.lapsed_at is None:
        # Its reminders and lapse from now: the next offset still ahead, else its expiry — already
        # passed if the renewal was decided after it, so the next sweep lapses it.
        await schedule_expiry(uow, policy, closed, at)
    tool = await uow.tools.get_by_key(closed.tool_key)
    name = tool.name if tool is not None else request.tool_name
    shown = LicenceState.LAPSED if state is LicenceState.LAPSED else LicenceState.VALID
    return [RenewalClosed(closed, request, how, name, shown)]
