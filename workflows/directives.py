"""Directives from command staff about a tool, their acknowledgement, and the tool registry services.

A directive ("Cease use", "Suspended pending review", "Restricted", "Approved for use",
"Advisory") names a tool and goes to channels; it may ask officers to acknowledge it, each
person once. Issuing, revoking or superseding one changes the tool's status of record by the
rules in workflows.registry. Who is command staff is resolved by the caller (a network call)
and passed in as a bool; the services here only refuse.

Services take an open DirectiveUnitOfWork, record audit entries and return events; the caller commits.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from workflows import registry
from workflows.audit import AuditEntry
from workflows.cleaning import clean_name, clean_text
from workflows.directive_effects import apply_directive, lift_directive
from workflows.directive_kinds import DirectiveKind

# The model lives in workflows/directive_model.py; its names are also importable from here.
from workflows.directive_model import (
    CHANNEL_LIMIT as CHANNEL_LIMIT,
)
from workflows.directive_model import (
    TEXT_LIMIT as TEXT_LIMIT,
)
from workflows.directive_model import (
    TOOL_NAME_LIMIT as TOOL_NAME_LIMIT,
)
from workflows.directive_model import (
    Acknowledged as Acknowledged,
)
from workflows.directive_model import (
    Acknowledgement as Acknowledgement,
)
from workflows.directive_model import (
    AttestationRequired as AttestationRequired,
)
from workflows.directive_model import (
    Directive as Directive,
)
from workflows.directive_model import (
    DirectiveDraft as DirectiveDraft,
)
from workflows.directive_model import (
    DirectiveIssued as DirectiveIssued,
)
from workflows.directive_model import (
    DirectiveNotActive as DirectiveNotActive,
)
from workflows.directive_model import (
    DirectivePost as DirectivePost,
)
from workflows.directive_model import (
    DirectiveRevoked as DirectiveRevoked,
)
from workflows.directive_model import (
    DirectiveStatus as DirectiveStatus,
)
from workflows.directive_model import (
    DirectiveSuperseded as DirectiveSuperseded,
)
from workflows.directive_model import (
    NotInAudience as NotInAudience,
)
from workflows.directive_model import (
    PostOutcome as PostOutcome,
)
from workflows.directive_model import (
    PostsRetried as PostsRetried,
)
from workflows.directive_model import (
    RequestFlagged as RequestFlagged,
)
from workflows.directive_model import (
    StatusAnswer as StatusAnswer,
)
from workflows.directive_model import (
    ToolStatusChanged as ToolStatusChanged,
)
from workflows.directive_model import (
    directive_reference as directive_reference,
)
from workflows.directive_model import (
    parse_directive_reference as parse_directive_reference,
)
from workflows.directive_model import (
    require_audience as require_audience,
)
from workflows.errors import InvalidInput, NotFound, require_command_staff
from workflows.events import Event
from workflows.followups.directive import directive_first_due
from workflows.policy import Policy, ReminderSettings
from workflows.registry import Tool
from workflows.requests import ToolRequest

if TYPE_CHECKING:
    from workflows.ports_directives import DirectiveUnitOfWork

# --- services ------------------------------------------------------------------------------


async def issue_directive(
    uow: DirectiveUnitOfWork,
    draft: DirectiveDraft,
    actor: str,
    is_command_staff: bool,
    now: datetime,
    *,
    reminders: ReminderSettings | None = None,
) -> list[Event]:
    """`reminders` (the policy's) times the first acknowledgement reminder when there is no due time."""
    require_command_staff(is_command_staff)
    draft = draft.cleaned(now)
    tool, is_new = await _find_tool(uow, draft.tool)
    _refuse_approval_under_override(draft.checked_kind, tool, None)
    directive = await uow.directives.add(_new_directive(draft, tool, actor, now, reminders))
    await _record_posts(uow, directive, now)
    await _audit(uow, directive.ref, "directive:issued", actor, now, "", "active", _summary(directive))
    after = apply_directive(registry.with_alias(tool, draft.tool), directive, now)
    after, tool_events = await _store_tool(uow, tool, after, is_new, actor, now, directive.ref)
    return [DirectiveIssued(_copy(directive), after), *tool_events]


async def retry_failed_posts(
    uow: DirectiveUnitOfWork, directive_id: int, actor: str, is_command_staff: bool, now: datetime
) -> list[Event]:
    """Post the directive again where it failed (a private channel the bot has since been invited
    to, say). Nothing to retry, nothing happens; a directive no longer in force is refused."""
    require_command_staff(is_command_staff)
    directive = await uow.directives.lock(directive_id)  # a concurrent revoke commits before or after
    if directive is None:
        raise NotFound(f"directive {directive_id}").about(directive_reference(directive_id))
    if not directive.is_active:
        raise not_active(directive)
    failed = [
        p.channel for p in await uow.directive_posts.for_directive(directive_id) if p.outcome == PostOutcome.FAILED
    ]
    if not failed:
        return []
    for channel in failed:
        await uow.directive_posts.set_outcome(directive_id, channel, PostOutcome.PENDING, now)
    await _audit(uow, directive.ref, "directive:retried", actor, now, "", "", ", ".join(failed))
    return [PostsRetried(_copy(directive), tuple(failed), actor)]


async def revoke_directive(
    uow: DirectiveUnitOfWork,
    directive_id: int,
    actor: str,
    is_command_staff: bool,
    now: datetime,
    reason: str = "",
) -> list[Event]:
    require_command_staff(is_command_staff)
    reason = clean_text(reason)
    if len(reason) > TEXT_LIMIT:
        raise InvalidInput({"reason": f"Keep this under {TEXT_LIMIT} characters."})
    directive = await _load_active(uow, directive_id)
    _end(directive, DirectiveStatus.REVOKED, actor, now)
    await uow.directives.save(directive)
    await _audit(uow, directive.ref, "directive:revoked", actor, now, "active", "revoked", reason)
    tool_events: list[Event] = []
    tool = await uow.tools.get_by_key(directive.tool_key)
    if tool is not None:
        still_active = await _active_except(uow, directive.tool_key, directive.id)
        after = lift_directive(tool, directive, now, still_active)
        _, tool_events = await _store_tool(uow, tool, after, False, actor, now, directive.ref)
    return [DirectiveRevoked(_copy(directive), actor, reason), *tool_events]


async def supersede_directive(
    uow: DirectiveUnitOfWork,
    old_id: int,
    new_draft: DirectiveDraft,
    actor: str,
    is_command_staff: bool,
    now: datetime,
    *,
    reminders: ReminderSettings | None = None,
) -> list[Event]:
    """Replace an active directive with a new one about the same tool, in one step (a draft that
    names no tool is about the old one's)."""
    require_command_staff(is_command_staff)
    old = await _load_active(uow, old_id)
    if not new_draft.tool.strip():
        new_draft = dataclasses.replace(new_draft, tool=old.tool_name)
    draft = new_draft.cleaned(now)
    tool, is_new = await _find_tool(uow, draft.tool)
    if tool.key != old.tool_key:
        raise InvalidInput({"tool": f"{old.ref} is about {old.tool_name}; a replacement must be too."})
    _refuse_approval_under_override(draft.checked_kind, tool, old)
    new = await uow.directives.add(_new_directive(draft, tool, actor, now, reminders, supersedes=old.id))
    await _record_posts(uow, new, now)
    _end(old, DirectiveStatus.SUPERSEDED, actor, now)
    old.superseded_by = new.id
    await uow.directives.save(old)
    await _audit(uow, old.ref, "directive:superseded", actor, now, "active", "superseded", f"by {new.ref}")
    summary = f"{_summary(new)}; supersedes {old.ref}"
    await _audit(uow, new.ref, "directive:issued", actor, now, "", "active", summary)
    still_active = await _active_except(uow, tool.key, old.id, new.id)
    after = registry.with_alias(tool, draft.tool)
    after = apply_directive(lift_directive(after, old, now, still_active), new, now)
    after, tool_events = await _store_tool(uow, tool, after, is_new, actor, now, new.ref)
    return [DirectiveSuperseded(_copy(old), _copy(new), after), *tool_events]


async def acknowledge(
    uow: DirectiveUnitOfWork, directive_id: int, user_id: str, now: datetime, *, in_audience: bool
) -> list[Event]:
    """Record that `user_id` has read the directive; a second click changes nothing. Only someone it
    was sent to (`in_audience`: a member of one of its channels) may."""
    directive = await _load(uow, directive_id)
    require_audience(directive, in_audience)
    if directive.kind.asks_attestation and directive.is_active:  # answered, not clicked
        raise AttestationRequired().about(directive.ref)
    ack = Acknowledgement(directive_id, user_id, now)
    # The insert is the check (one per person, by a unique constraint): a first click costs
    # one statement, not a look-up and then an insert. Thousands click at once.
    if directive.is_active and await uow.acks.add(ack):
        await _audit(uow, directive.ref, "directive:acknowledged", user_id, now)
        return [Acknowledged(_copy(directive), ack, already=False)]
    existing = await uow.acks.get(directive_id, user_id)
    if existing is not None:  # a second click (or lost a race with the same person's other click)
        return [Acknowledged(_copy(directive), existing, already=True)]
    raise not_active(directive, "acknowledge")


async def record_tool_request(
    uow: DirectiveUnitOfWork, tool_name: str, request_ref: str, by: str, now: datetime
) -> list[Event]:
    """A request was submitted for `tool_name`: register the tool and flag a cease-use or suspension."""
    tool, is_new = await _find_tool(uow, _tool_name(tool_name))
    after = registry.with_alias(tool, tool_name)
    after = registry.apply_request_decision(after, request_ref, registry.RequestOutcome.OPENED, by, now)
    after, events = await _store_tool(uow, tool, after, is_new, by, now, request_ref)
    if after.override is not None:
        events.append(RequestFlagged(request_ref, after))
    return events


async def record_request_outcome(
    uow: DirectiveUnitOfWork,
    tool_name: str,
    request_ref: str,
    outcome: registry.RequestOutcome,
    by: str,
    now: datetime,
    conditions: str = "",
) -> list[Event]:
    """A request for `tool_name` was approved, rejected or withdrawn: update the status of record."""
    tool, is_new = await _find_tool(uow, _tool_name(tool_name))
    after = registry.with_alias(tool, tool_name)
    after = registry.apply_request_decision(after, request_ref, outcome, by, now, conditions)
    _, events = await _store_tool(uow, tool, after, is_new, by, now, request_ref)
    return events


async def find_tool(uow: DirectiveUnitOfWork, name: str) -> Tool | None:
    """The registry's record for a name, if it has one (exact, alias, or equal but for spaces; no fuzzy guess)."""
    # Look-alikes: "Clear View" for "Clearview", "Stingrаy" (Cyrillic а) for "Stingray"; the forms
    # are what registry.same_tool compares.
    return await uow.tools.find(registry.tool_key(name), registry.normalise_name(name), registry.lookalikes(name))


async def owed_in_channel(uow: DirectiveUnitOfWork, channel: str, user_id: str) -> list[Directive]:
    """The directives in force that ask for acknowledgement, already posted in `channel`, that
    `user_id` has not acknowledged: what a newcomer to the channel owes."""
    owed = []
    for directive in await uow.directives.for_channel(channel):
        posts = await uow.directive_posts.for_directive(directive.stored_id)
        posted = any(p.channel == channel and p.outcome == PostOutcome.POSTED for p in posts)
        if posted and await uow.acks.get(directive.stored_id, user_id) is None:
            owed.append(directive)
    return owed


OPEN_REQUESTS_SHOWN = 20  # /tool-status lists at most ten; more would only be counted


async def open_requests_for(uow: DirectiveUnitOfWork, stage_keys: list[str], tool: Tool) -> list[ToolRequest]:
    """Open requests (waiting at any of these stages) about `tool`, under any of its names: all of
    them are looked at, however many others are open, and the oldest loaded whole."""
    names = await uow.requests.open_tool_names(stage_keys)
    about = [request_id for request_id, name in names if registry.same_tool(name, tool)]
    loaded = [await uow.requests.get(request_id) for request_id in about[:OPEN_REQUESTS_SHOWN]]
    return [request for request in loaded if request is not None]


async def override_for(uow: DirectiveUnitOfWork, request: ToolRequest) -> Tool | None:
    """The tool, if a cease-use or suspension is in force for what `request` asks for: reviewers are warned."""
    if not await uow.tools.any_overridden():  # the usual case, known once per batch: no look-up
        return None
    tool = await find_tool(uow, request.tool_name)
    return tool if tool is not None and tool.override is not None else None


CLEAR_MARGIN = 5.0  # how far ahead the best fuzzy match must be to be taken as the tool meant


async def tool_status(uow: DirectiveUnitOfWork, query: str, limit: int = 5) -> StatusAnswer:
    hits = registry.match_tools(query, await uow.tools.all(), limit)
    # Filed under that very name (as /request-tool would file it): the answer of record.
    chosen = await find_tool(uow, query) if registry.normalise_name(query) else None
    exact = chosen is not None
    if chosen is None and hits:  # else only the closest name on record, if one stands out
        (top, best), runner_up = hits[0], hits[1][1] if len(hits) > 1 else 0.0
        if (best == 100.0 and runner_up < 100.0) or best - runner_up >= CLEAR_MARGIN:
            chosen = top
    directives = await uow.directives.active_for_tool(chosen.key) if chosen else []
    others = tuple(tool for tool, _ in hits if chosen is None or tool.key != chosen.key)
    return StatusAnswer(query, chosen, others, tuple(directives), exact)


async def tool_status_with_requests(
    uow: DirectiveUnitOfWork, policy: Policy, query: str
) -> tuple[StatusAnswer, list[ToolRequest]]:
    """What /tool-status says: the status answer, and the requests about the tool meant still open
    at any stage of the policy (none when it is unsure which tool was meant)."""
    answer = await tool_status(uow, query)
    requests = await open_requests_for(uow, list(policy.stage_keys), answer.tool) if answer.tool else []
    return answer, requests


# --- helpers -------------------------------------------------------------------------------


def _tool_name(name: str) -> str:
    name = clean_name(name)
    if not registry.normalise_name(name):
        raise InvalidInput({"tool_name": "Give the tool's name."})
    return name


async def _find_tool(uow: DirectiveUnitOfWork, name: str) -> tuple[Tool, bool]:
    """The tool `name` is filed under, or a new one (not yet stored) and True."""
    tool = await find_tool(uow, name)
    return (tool, False) if tool is not None else (registry.new_tool(name), True)


def _refuse_approval_under_override(kind: DirectiveKind, tool: Tool, replacing: Directive | None) -> None:
    """An approval does not lift a cease-use or suspension; only superseding or revoking that directive does."""
    if not kind.is_approval or tool.override is None:
        return
    ref = tool.override.source
    if replacing is not None and ref == replacing.ref:
        return
    raise InvalidInput(
        {
            "kind": f"{tool.name} is under {tool.override.status.label} ({ref}), which this would not lift. "
            f"To lift it, open {ref} (/directive {ref}) and choose Supersede… or Revoke…."
        }
    )


async def _store_tool(
    uow: DirectiveUnitOfWork, before: Tool, after: Tool, is_new: bool, actor: str, now: datetime, cause: str
) -> tuple[Tool, list[Event]]:
    """Add or save the tool if it changed, audit it, and say whether its shown status changed."""
    subject = f"tool:{after.key}"
    if is_new:
        after = await uow.tools.add(after)
        await _audit(uow, subject, "tool:registered", actor, now, "", after.state(), cause)
    elif after != before:
        await uow.tools.save(after)
        if after.aliases != before.aliases:
            added = ", ".join(sorted(after.aliases - before.aliases))
            await _audit(uow, subject, "tool:alias_added", actor, now, reason=added)
        layers = ("decision", "directive", "override")
        if any(getattr(after, x) != getattr(before, x) for x in layers):
            await _audit(uow, subject, "tool:status", actor, now, before.state(), after.state(), cause)
    snapshot = dataclasses.replace(after)
    was = None if is_new else before.current
    if after.current == was:
        return snapshot, []
    return snapshot, [ToolStatusChanged(snapshot, was, cause)]


def _new_directive(
    draft: DirectiveDraft,
    tool: Tool,
    actor: str,
    now: datetime,
    reminders: ReminderSettings | None,
    supersedes: int | None = None,
) -> Directive:
    first_reminder = None
    if draft.ack_required:
        first_reminder = directive_first_due(now, draft.ack_due, reminders or ReminderSettings())
    return Directive(
        kind=draft.checked_kind,
        tool_key=tool.key,
        tool_name=draft.tool,
        text=draft.text,
        issued_by=actor,
        issued_at=now,
        channels=draft.channels,
        ack_required=draft.ack_required,
        ack_due=draft.ack_due,
        supersedes=supersedes,
        next_reminder_at=first_reminder,
    )


async def _load(uow: DirectiveUnitOfWork, directive_id: int) -> Directive:
    directive = await uow.directives.get(directive_id)
    if directive is None:
        raise NotFound(f"directive {directive_id}").about(directive_reference(directive_id))
    return directive


async def _load_active(uow: DirectiveUnitOfWork, directive_id: int) -> Directive:
    directive = await _load(uow, directive_id)
    if not directive.is_active:
        raise not_active(directive)
    return directive


async def _record_posts(uow: DirectiveUnitOfWork, directive: Directive, now: datetime) -> None:
    """One post per channel, pending until Slack says whether it arrived."""
    for channel in directive.channels:
        await uow.directive_posts.add(directive.stored_id, channel, now)


def not_active(directive: Directive, action: str = "change") -> DirectiveNotActive:
    by = directive.superseded_by
    replaced_by = directive_reference(by) if by else None
    return DirectiveNotActive(directive.status, replaced_by, action).about(directive.ref)


async def _active_except(uow: DirectiveUnitOfWork, tool_key: str, *ids: int | None) -> list[Directive]:
    return [d for d in await uow.directives.active_for_tool(tool_key) if d.id not in ids]


def _end(directive: Directive, status: DirectiveStatus, actor: str, now: datetime) -> None:
    directive.status, directive.revoked_by, directive.revoked_at = status, actor, now
    directive.next_reminder_at = None  # nobody is chased about a directive no longer in force


def _summary(directive: Directive) -> str:
    return f"{directive.kind.label}: {directive.tool_name}"


def _copy(directive: Directive) -> Directive:
    """A copy the caller can keep after the directive changes again."""
    return dataclasses.replace(directive)


async def _audit(
    uow: DirectiveUnitOfWork,
    subject: str,
    action: str,
    actor: str,
    now: datetime,
    before: str = "",
    after: str = "",
    reason: str = "",
) -> None:
    await uow.audit.record(AuditEntry(subject, action, actor, now, before, after, reason))
