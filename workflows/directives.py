"""The directive services: issuing, retrying, revoking and superseding a directive from command
staff about a tool, and its acknowledgement (the model is workflows/directive_model.py, the tool
registry's services workflows/tool_services.py).

A directive ("Cease use", "Suspended pending review", "Restricted", "Approved for use",
"Advisory") names a tool and goes to channels; it may ask officers to acknowledge it, each
person once. Issuing, revoking or superseding one changes the tool's status of record by the
rules in workflows/directive_effects.py. Who is command staff is resolved by the caller (a network call)
and passed in as a bool; the services here only refuse.

Services take an open DirectiveUnitOfWork, record audit entries and return events; the caller commits.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from workflows import registry
from workflows.cleaning import clean_text
from workflows.directive_effects import apply_directive, lift_directive
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import (
    TEXT_LIMIT,
    Acknowledged,
    Acknowledgement,
    AttestationRequired,
    Directive,
    DirectiveDraft,
    DirectiveIssued,
    DirectiveNotActive,
    DirectiveRevoked,
    DirectiveStatus,
    DirectiveSuperseded,
    PostOutcome,
    PostsRetried,
    directive_reference,
    require_audience,
)
from workflows.errors import InvalidInput, NotFound, require_command_staff
from workflows.events import Event
from workflows.followups.directive import directive_first_due
from workflows.policy import ReminderSettings
from workflows.registry import Tool

if TYPE_CHECKING:
    from workflows.ports_directives import DirectiveUnitOfWork
from workflows.tool_services import find_or_new_tool, record_audit, store_tool

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
    tool, is_new = await find_or_new_tool(uow, draft.tool)
    _refuse_approval_under_override(draft.checked_kind, tool, None)
    directive = await uow.directives.add(_new_directive(draft, tool, actor, now, reminders))
    await _record_posts(uow, directive, now)
    await record_audit(uow, directive.ref, "directive:issued", actor, now, "", "active", _summary(directive))
    after = apply_directive(registry.with_alias(tool, draft.tool), directive, now)
    after, tool_events = await store_tool(uow, tool, after, is_new, actor, now, directive.ref)
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
    await record_audit(uow, directive.ref, "directive:retried", actor, now, "", "", ", ".join(failed))
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
    await record_audit(uow, directive.ref, "directive:revoked", actor, now, "active", "revoked", reason)
    tool_events: list[Event] = []
    tool = await uow.tools.get_by_key(directive.tool_key)
    if tool is not None:
        still_active = await _active_except(uow, directive.tool_key, directive.id)
        after = lift_directive(tool, directive, now, still_active)
        _, tool_events = await store_tool(uow, tool, after, False, actor, now, directive.ref)
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
    tool, is_new = await find_or_new_tool(uow, draft.tool)
    if tool.key != old.tool_key:
        raise InvalidInput({"tool": f"{old.ref} is about {old.tool_name}; a replacement must be too."})
    _refuse_approval_under_override(draft.checked_kind, tool, old)
    new = await uow.directives.add(_new_directive(draft, tool, actor, now, reminders, supersedes=old.id))
    await _record_posts(uow, new, now)
    _end(old, DirectiveStatus.SUPERSEDED, actor, now)
    old.superseded_by = new.id
    await uow.directives.save(old)
    await record_audit(uow, old.ref, "directive:superseded", actor, now, "active", "superseded", f"by {new.ref}")
    summary = f"{_summary(new)}; supersedes {old.ref}"
    await record_audit(uow, new.ref, "directive:issued", actor, now, "", "active", summary)
    still_active = await _active_except(uow, tool.key, old.id, new.id)
    after = registry.with_alias(tool, draft.tool)
    after = apply_directive(lift_directive(after, old, now, still_active), new, now)
    after, tool_events = await store_tool(uow, tool, after, is_new, actor, now, new.ref)
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
        await record_audit(uow, directive.ref, "directive:acknowledged", user_id, now)
        return [Acknowledged(_copy(directive), ack, already=False)]
    existing = await uow.acks.get(directive_id, user_id)
    if existing is not None:  # a second click (or lost a race with the same person's other click)
        return [Acknowledged(_copy(directive), existing, already=True)]
    raise not_active(directive, "acknowledge")


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
