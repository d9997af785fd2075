"""Anchoring the audit chain: its head (last number, last hash) recorded where a database
administrator cannot rewrite it — the `[audit] channel` in Slack — and in `audit_anchors`.

`anchor_chain` is the service of the `AnchorChain` command (workflows/commands.py), run through
`Changes.handle` by `clearance audit anchor` and, every `[audit] anchor_every`, by the timed
follow-ups. The message it implies (bot/messages/anchors.py) is what `clearance audit verify
--slack` reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from workflows.events import Event
from workflows.policy import AuditSettings

ON_SCHEDULE = "schedule"  # `by` of an anchor the follow-ups post
BY_OPERATOR = "operator"  # `by` of `clearance audit anchor`


@dataclass(frozen=True)
class ChainHead:
    seq: int  # 0: no entry yet
    hash: str


@dataclass(frozen=True)
class Anchored:
    seq: int
    hash: str
    at: datetime
    posted_to: str  # the Slack channel, or "" for the database alone


class AuditAnchors(Protocol):
    async def head(self) -> ChainHead:
        """The chain's head, this transaction's own entries included."""

    async def latest(self, posted_to: str) -> Anchored | None:
        """The newest anchor recorded for that channel ("" : the database alone)."""

    async def record(self, anchor: Anchored) -> None: ...


class AnchoringUnit(Protocol):
    @property
    def audit_anchors(self) -> AuditAnchors: ...


@dataclass(frozen=True)
class ChainAnchored(Event):
    anchor: Anchored
    by: str  # ON_SCHEDULE or BY_OPERATOR


async def anchor_chain(uow: AnchoringUnit, settings: AuditSettings, by: str, at: datetime) -> list[Event]:
    """Record the head as an anchor (and, with a channel, the event that posts it there). Nothing
    when the trail is empty or the head is the one last anchored there: a second witness of the
    same head adds nothing, and a daily message saying so would be noise."""
    head = await uow.audit_anchors.head()
    if head.seq == 0:
        return []
    posted_to = settings.channel or ""
    last = await uow.audit_anchors.latest(posted_to)
    if last is not None and (last.seq, last.hash) == (head.seq, head.hash):
        return []
    anchor = Anchored(head.seq, head.hash, at, posted_to)
    await uow.audit_anchors.record(anchor)
    return [ChainAnchored(anchor, by)]
