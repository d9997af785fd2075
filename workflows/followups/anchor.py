"""The audit anchor: the audit chain's head recorded, and posted to `[audit] channel`, every
`[audit] anchor_every` (default 24h) — a witness outside the database (docs/audit.md).

A recurring job with no subject row: its one `follow_ups` row is created at start-up, due at once,
so a new installation is anchored on its first sweep. After downtime it runs once, not once per
missed day. Not deferred by quiet hours: it posts to an audit channel, not to a person. What it
produces is the anchoring service's own event (`ChainAnchored`), which bot/messages/anchors.py turns
into the channel's post; nothing is posted when the head has not moved since the last anchor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from workflows.audit_anchors import ON_SCHEDULE, anchor_chain
from workflows.events import Event
from workflows.followups.kind import Claim, FollowUp, Known
from workflows.followups.rows import RowKind
from workflows.policy import Policy

NAME = "audit-anchor"


class AuditAnchor(RowKind):
    name: ClassVar[str] = NAME
    quiet: ClassVar[bool] = False  # it posts to an audit channel, not to a person
    labels: ClassVar[tuple[str, ...]] = ("audit anchor",)

    def first_due(self, policy: Policy, now: datetime) -> datetime | None:
        return now

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None:
        return self.again(item, now, policy.audit.anchor_every, True)

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        return await anchor_chain(uow, policy.audit, ON_SCHEDULE, now)

    def describe(self, claim: Claim) -> str:
        return f"{self.reference(claim.item_id)}: the audit chain's head recorded and posted (every turn)"
