"""What the reviewer's listeners need (review cards, reason, tier and licence forms), in a module of
its own so that reviews.py and licences.py both use it without importing each other's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners.common import Change, Replies
from bot.people.roles import Roles
from workflows.policy import Policy
from workflows.ports_directives import ReadingUnit


@dataclass(frozen=True)
class ReviewDeps:
    """Given by the composition root (bot/wiring/runtime.py); bot/listeners/risk.py uses it too."""

    policy: Policy
    clock: Callable[[], datetime]
    roles: Roles
    change: Change  # bot.changes.Changes.handle
    reading: ReadingUnit
    client: AsyncWebClient
    replies: Replies
