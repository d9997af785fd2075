"""Attestation events -> Slack messages (a part of bot/messages/for_events.py's table): a "still holding"
answer told at once to [attestations] notify, and the officer asked to attest after their
self-reported use was rejected. Pure: where to tell was resolved before the change."""

from __future__ import annotations

from bot.blocks.attestations import deletion_asked_dm, still_holding_notice
from bot.messages.outbound import post, request_queue
from workflows.attesting import Attested, DeletionAsked
from workflows.events import Event
from workflows.outbox import OutboundMessage


def attestation_messages(event: Event) -> list[OutboundMessage]:
    match event:
        case Attested(already=False, notify=notify) if notify:
            text, blocks = still_holding_notice(event)
            return [post(f"attestation-notice:{to}", to, text, blocks) for to in notify]
        case DeletionAsked(reported=request):
            text, blocks = deletion_asked_dm(request)
            return [post(request_queue(request), request.requester_id, text, blocks)]
    return []
