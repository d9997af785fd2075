"""Listeners for attestations: a cease-use or suspension's Answer and acknowledge… (and a click on
the old one-click Acknowledge of one), the officer's Answer… after a self-reported use was
rejected, and the form's submission.

Whether the person is in the directive's audience is Slack's to say at the moment of each action.
Where a "still holding" answer is told ([attestations] notify: channels and user groups; default
the privacy stage's review channel, else command staff) is resolved here, before the change, so the
notices are stored with the answer: nothing is told after the fact or lost in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.attestations import attestation_form, attested_view, parse_attestation_form
from bot.directives.audience import DirectiveAudience
from bot.http.payloads import AttestTarget, DirectiveRef, read
from bot.listeners.common import Change, Replies, action_value, actor, channel_of, guarded, once_key
from bot.messages.ids import ActionId, CallbackId
from bot.messages.presenter import explain
from bot.people.directory import SlackDirectory
from bot.wiring.listener_table import ListenerTable
from workflows.attestations import AttestationAnswer
from workflows.attesting import Attested
from workflows.commands import Attest
from workflows.directive_model import directive_reference, require_audience
from workflows.directives import not_active
from workflows.errors import NotFound, NotRequester
from workflows.policy import Policy, is_group
from workflows.ports_directives import ReadingUnit


@dataclass(frozen=True)
class AttestationDeps:
    policy: Policy
    clock: Callable[[], datetime]
    change: Change
    reading: ReadingUnit
    client: AsyncWebClient
    audience: DirectiveAudience
    directory: SlackDirectory  # expands [attestations] notify's user groups
    replies: Replies


class FormDeps(Protocol):
    """What opening the form needs (AttestationDeps, and DirectiveDeps for an old Acknowledge button)."""

    @property
    def policy(self) -> Policy: ...
    @property
    def reading(self) -> ReadingUnit: ...
    @property
    def client(self) -> AsyncWebClient: ...
    @property
    def audience(self) -> DirectiveAudience: ...
    @property
    def replies(self) -> Replies: ...


def register(app: ListenerTable, deps: AttestationDeps) -> None:
    app.action(ActionId.ATTEST)(guarded(deps, open_directive_form))
    app.action(ActionId.ATTEST_REQUEST)(guarded(deps, open_request_form))
    app.view(CallbackId.ATTEST_FORM)(guarded(deps, submit_attestation))


def notify_principals(policy: Policy) -> tuple[str, ...]:
    """[attestations] notify; by default the review channel of the stage keyed privacy, else command staff."""
    if policy.licences.attestation_notify:
        return policy.licences.attestation_notify
    privacy = next((s for s in policy.stages if s.key == "privacy"), None)
    return (privacy.channel,) if privacy else policy.roles.command_staff


async def notify_targets(deps: AttestationDeps) -> tuple[str, ...]:
    """Channels stay channels; user groups become their members as Slack says now (DirectoryUnavailable:
    the form says nothing was saved, `guarded`)."""
    principals = notify_principals(deps.policy)
    channels = [p for p in principals if p[:1] in ("C", "G")]
    people = await deps.directory.expand(p for p in principals if is_group(p) or p[:1] in ("U", "W"))
    return (*channels, *sorted(people))


async def open_directive_form(deps: AttestationDeps, ack, body) -> None:
    await ack()
    await open_for_directive(deps, body, read(DirectiveRef, action_value(body)).directive_id)


async def open_for_directive(deps: FormDeps, body: dict, directive_id: int) -> None:
    """The form, or (answered already) what they answered. Also what a click on a cease-use's old
    one-click Acknowledge opens (bot/listeners/directives.py)."""
    user = actor(body)
    async with deps.reading() as uow:
        directive = await uow.directives.get(directive_id)
        mine = await uow.attestations.for_directive(directive_id, user) if directive else None
    if directive is None:
        raise NotFound(f"directive {directive_id}").about(directive_reference(directive_id))
    require_audience(directive, await deps.audience.includes(directive_id, user, channel_of(body)))
    if mine is not None:
        view = attested_view(Attested(mine, True, directive=directive))
    elif not directive.is_active:
        await deps.replies.tell(body, explain(not_active(directive, "acknowledge"), deps.policy))
        return
    else:
        view = attestation_form(directive=directive)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def open_request_form(deps: AttestationDeps, ack, body) -> None:
    await ack()
    request_id = read(AttestTarget, action_value(body)).request_id
    user = actor(body)
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id) if request_id is not None else None
        mine = await uow.attestations.for_request(request.stored_id, user) if request else None
    if request is None:
        raise NotFound("request")
    if request.requester_id != user:
        raise NotRequester().about(request.ref)
    if mine is not None:
        view = attested_view(Attested(mine, True, answered_request=request))
    else:
        view = attestation_form(request=request)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def submit_attestation(deps: AttestationDeps, ack, body) -> None:
    view = body.get("view") or {}
    target = read(AttestTarget, view.get("private_metadata"))
    answer, cases, held = parse_attestation_form((view.get("state") or {}).get("values") or {})
    user = actor(body)
    notify = await notify_targets(deps) if answer == AttestationAnswer.STILL_HOLDING.value else ()
    in_audience = False
    if target.directive_id is not None:  # asked again now: they may have left its channels
        in_audience = await deps.audience.includes(target.directive_id, user, None)
    command = Attest(
        user,
        answer,
        cases,
        held,
        deps.clock(),
        directive_id=target.directive_id,
        request_id=target.request_id,
        in_audience=in_audience,
        notify=notify,
        once=once_key(view),
    )
    # A refusal (no answer, "still holding" without a case number, no longer in force) is shown
    # on the form's field or as a notice by `guarded`; nothing is stored.
    events = await deps.change(command)
    attested = next((e for e in events if isinstance(e, Attested)), None)
    if attested is None:  # the same submission delivered again: recorded the first time
        await ack()
        return
    await ack(response_action="update", view=attested_view(attested))
