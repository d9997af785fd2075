"""Domain events -> the Slack calls they imply, as outbox messages.

This runs inside the same transaction as the change, so a decision and the messages it
implies are stored together: none is lost if Slack is slow or the process restarts.
Each review card has a queue of its own (posted, then updated, in order); the requester's
messages and notices about one request share the request's queue (told in order). Queues go out
side by side: an approval's three messages (this card updated, the next stage's card posted,
the requester told) are sent at once, not one after the other.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.requests import card_body, requester_dm, review_card, stage_name
from bot.blocks.risk import (
    answers_changed_headline,
    approved_by_rules_headline,
    refusal_headline,
    refusal_notice,
    submitted_headline,
    tier_changed_headline,
)
from bot.messages.text import escape
from workflows.events import (
    AnswersChanged,
    Event,
    InfoProvided,
    InfoRequested,
    RequestApproved,
    RequestApprovedByRules,
    RequestRefused,
    RequestRejected,
    RequestSubmitted,
    RequestWithdrawn,
    StageApproved,
    TierChanged,
)
from workflows.handlers import RequestWarningsChanged
from workflows.outbox import URGENT, OutboundMessage
from workflows.policy import Policy, is_group
from workflows.requests import ToolRequest


def request_queue(request: ToolRequest) -> str:
    return f"request:{request.id}"


def card_key(request: ToolRequest, stage_key: str) -> str:
    """Names the card of `stage_key` (its post's `store_as`, its updates' `target`) and is its queue."""
    return f"card:{request.id}:{stage_key}"


def post(
    queue: str, channel: str, text: str, blocks: list[dict], *, store_as: str | None = None, priority: int = URGENT
) -> OutboundMessage:
    payload = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
    if blocks:
        payload["blocks"] = blocks
    return OutboundMessage(queue, "chat.postMessage", payload, store_as=store_as, priority=priority)


def update(queue: str, target: str, text: str, blocks: list[dict]) -> OutboundMessage:
    return OutboundMessage(queue, "chat.update", {"text": text, "blocks": blocks}, target=target, coalesce=True)


def ephemeral(channel: str, user: str, text: str, blocks: list[dict] | None = None) -> OutboundMessage:
    payload: dict[str, Any] = {"channel": channel, "user": user, "text": text}
    if blocks:
        payload["blocks"] = blocks
    return OutboundMessage(f"ephemeral:{user}", "chat.postEphemeral", payload)


class RequestMessages:
    """Knows what each request event means for the people involved."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def card(
        self, request: ToolRequest, stage_key: str, flags: list[str] | None = None, body: list[dict] | None = None
    ) -> tuple[str, list[dict]]:
        return review_card(request, self.policy, stage_key, flags, body=body)

    def post_card(
        self, request: ToolRequest, stage_key: str, flags: list[str], body: list[dict] | None = None
    ) -> OutboundMessage:
        text, blocks = self.card(request, stage_key, flags, body)
        channel = self.policy.stage(stage_key).channel
        card = card_key(request, stage_key)
        return post(card, channel, text, blocks, store_as=card)

    def update_card(
        self, request: ToolRequest, stage_key: str, flags: list[str], body: list[dict] | None = None
    ) -> OutboundMessage:
        text, blocks = self.card(request, stage_key, flags, body)
        card = card_key(request, stage_key)
        return update(card, card, text, blocks)

    def dm(self, request: ToolRequest, headline: str, *, answer: bool = False) -> OutboundMessage:
        text, blocks = requester_dm(request, self.policy, headline, answer=answer)
        return post(request_queue(request), request.requester_id, text, blocks)

    def refusal_messages(self, request: ToolRequest, assessment) -> list[OutboundMessage]:
        """A refused request: the privacy channel and each command staff member (named users; user
        groups are expanded after the commit, see bot/messages/refusal_notices.py) are told."""
        messages = []
        privacy = self.policy.privacy_stage()
        if privacy is not None:
            text, blocks = refusal_notice(request, assessment, for_command_staff=False)
            messages.append(post(request_queue(request), privacy.channel, text, blocks))
        text, blocks = refusal_notice(request, assessment, for_command_staff=True)
        for user in self.policy.roles.command_staff:
            if not is_group(user):
                messages.append(post(request_queue(request), user, text, blocks))
        return messages

    def for_event(self, event: Event, flags: list[str] | None = None) -> list[OutboundMessage]:
        flags = flags or []
        request: ToolRequest = event.request  # type: ignore[attr-defined]
        name = lambda key: stage_name(self.policy, key)  # noqa: E731
        tool = escape(request.tool_name, 100)
        match event:
            case RequestSubmitted() if request.tier is not None:
                first = request.stage_key
                assert first is not None, "a request sent for review has a first stage"
                return [
                    self.post_card(request, first, flags),
                    self.dm(request, submitted_headline(request, self.policy)),
                ]
            case RequestSubmitted():
                first = request.stage_key
                assert first is not None  # a submitted request waits at the first stage of its route
                return [
                    self.post_card(request, first, flags),
                    self.dm(
                        request,
                        f":inbox_tray: Your request *{request.ref}* for *{tool}* has been sent for review. "
                        f"{name(first)} reviews it first; you will get a message here at every step. "
                        "Please do not use the tool for police work until it is approved.",
                    ),
                ]
            case StageApproved(decision=decision, next_stage_key=next_key):
                note = f" Note: {escape(decision.note, 500)}" if decision.note else ""
                body = card_body(request, self.policy)  # the two cards share it: rendered once
                return [
                    self.update_card(request, decision.stage_key, flags, body),
                    self.post_card(request, next_key, flags, body),
                    self.dm(
                        request,
                        f":white_check_mark: *{name(decision.stage_key)}* approved *{request.ref}* ({tool}) "
                        f"— <@{decision.by}>.{note} Next: {name(next_key)} review.",
                    ),
                ]
            case RequestApproved(decision=decision):
                note = f" Note: {escape(decision.note, 500)}" if decision.note else ""
                return [
                    self.update_card(request, decision.stage_key, flags),
                    self.dm(
                        request,
                        f":tada: *{request.ref}* ({tool}) is *approved*. {name(decision.stage_key)} gave the final "
                        f"approval — <@{decision.by}>.{note} You may use it for the purpose you described; "
                        "a new purpose needs a new request.",
                    ),
                ]
            case RequestRejected(decision=decision):
                if request.extends:  # a renewal, or a new purpose: the earlier approval is another matter
                    then = f"This does not change {request.extends}: `/tool-status` says whether you may use it now."
                else:
                    then = "Do not use this tool for police work. If something has changed, you can send a new request."
                return [
                    self.update_card(request, decision.stage_key, flags),
                    self.dm(
                        request,
                        f":no_entry: *{request.ref}* ({tool}) was *rejected* by {name(decision.stage_key)} "
                        f"— <@{decision.by}>. Reason: {escape(decision.note, 1500)}\n{then}",
                    ),
                ]
            case InfoRequested(exchange=exchange):
                return [
                    self.update_card(request, exchange.stage_key, flags),
                    self.dm(
                        request,
                        f":question: <@{exchange.asked_by}> ({name(exchange.stage_key)}) needs more information "
                        f"about *{request.ref}* ({tool}):\n>{escape(exchange.question, 1500)}\n"
                        "Press *Answer the question* below. The request waits at this stage until you answer.",
                        answer=True,
                    ),
                ]
            case InfoProvided(exchange=exchange):
                # The stage that asked, and the one deciding now if a tier change moved it meanwhile.
                deciding = request.stage_key if request.status.is_open else None
                cards = [self.update_card(request, exchange.stage_key, flags)]
                if deciding and deciding != exchange.stage_key:
                    cards.append(self.update_card(request, deciding, flags))
                return [
                    *cards,
                    self.dm(
                        request,
                        f":speech_balloon: Your answer was added to *{request.ref}* ({tool}). "
                        f"{name(deciding or exchange.stage_key)} will continue the review.",
                    ),
                ]
            case RequestRefused(assessment=assessment, waited_at=waited_at):
                messages = [self.update_card(request, waited_at, flags)] if waited_at else []  # refused in review
                messages.append(self.dm(request, refusal_headline(request, assessment)))
                return messages + self.refusal_messages(request, assessment)
            case RequestApprovedByRules():
                return [self.dm(request, approved_by_rules_headline(request))]
            case TierChanged(before=before, after=after, by=by, reason=reason, from_stage_key=was, to_stage_key=now):
                messages = [self.update_card(request, was, flags)] if was else []
                if now and now != was:
                    messages.append(self.post_card(request, now, flags))
                headline = tier_changed_headline(request, self.policy, before, after, by, reason)
                if event.approved is not None:
                    headline += "\n:tada: Every stage of the new route is approved already, so it is *approved*."
                elif now and now != was:
                    headline += f" Next: {name(now)} review."
                return [*messages, self.dm(request, headline)]
            case AnswersChanged(changed=changed, assessment=assessment, card_stage_key=stage):
                messages = [self.update_card(request, stage, flags)] if stage else []
                return [*messages, self.dm(request, answers_changed_headline(request, changed, assessment))]
            case RequestWarningsChanged():
                return [self.update_card(request, request.stage_key, flags)] if request.stage_key else []
            case RequestWithdrawn(stage_key=stage_key):
                messages = [self.update_card(request, stage_key, flags)] if stage_key else []
                messages.append(
                    self.dm(
                        request,
                        f":leftwards_arrow_with_hook: You withdrew *{request.ref}* ({tool}). "
                        "Reviewers have been told. You can send a new request with /request-tool.",
                    )
                )
                return messages
        return []
