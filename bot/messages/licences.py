"""Licence events -> Slack messages (a part of bot/messages/for_events.py's table): what a closed
renewal leaves the licence, told to its owner after the renewal's own rejection DM. Pure."""

from __future__ import annotations

from bot.blocks.licence_status import renewal_closed_dm
from bot.messages.outbound import post, request_queue
from workflows.events import Event
from workflows.licence_renewal import RenewalClosed
from workflows.licences import LicenceState
from workflows.outbox import OutboundMessage


def licence_messages(event: Event) -> list[OutboundMessage]:
    match event:
        case RenewalClosed(licence=licence, renewal=renewal, how=how, tool_name=name, state=state):
            lapsed = state is LicenceState.LAPSED
            text, blocks = renewal_closed_dm(licence, renewal.ref, how, name, lapsed)
            return [post(request_queue(renewal), licence.owner, text, blocks)]
    return []
