"""The outbox port: calls owed to the outside world, stored with the change that implies them.

Services never write to it: the write path (bot/wiring/changes.py `Changes.handle`) turns a change's
events into `OutboundMessage`s (bot/messages/for_events.py) and adds them to the unit of work's
outbox; they commit with the change and a sender delivers them afterwards (bot/delivery/sender.py,
with storage/outbox.py behind it). The message type lives here, in the domain's ports, because both
sides use it: bot/ builds messages and storage/ stores them, and neither may import the other's
modules for it (storage never imports bot; bot/listeners never import storage; tests/test_layering.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """One Web API call: `method` with `payload`.

    `store_as` names the posted message so a later call can `target` it (chat.update,
    chat.getPermalink…): the sender fills in its channel and ts. `coalesce` lets a newer
    pending call replace an older one that has not gone out yet: the same `method` on the same
    `target` in the same queue, or, without a target, the same `method` in the same queue (e.g.
    views.publish in a queue per user: many changes, one publish of the latest Home tab).
    `priority` BULK marks calls that may wait (reminder DMs, Home tab refreshes) so that a burst
    of thousands never holds back a review card or a directive: URGENT rows are always sent first.
    """

    queue: str
    method: str
    payload: dict[str, Any] = field(default_factory=dict)
    store_as: str | None = None
    target: str | None = None
    coalesce: bool = False
    priority: int = 0


URGENT, BULK = 0, 1


class OutboxStatus(StrEnum):
    """Where a stored call stands: waiting (or waiting again after a retryable error), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"  # not sent: pointless by its turn (a reminder about something decided meanwhile)


class Outbox(Protocol):
    """Where a change puts the calls it implies (committed with it)."""

    async def add(self, message: OutboundMessage) -> None: ...

    async def add_all(self, messages: list[OutboundMessage]) -> None: ...
