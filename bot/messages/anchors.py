"""The audit anchor's message in `[audit] channel`, and reading it back (`clearance audit verify --slack`).

Its first line is the anchor, in a fixed form a person can read and `parse_anchor` can parse:

    Audit anchor: entry 44, hash 5e0c…(64 hex), at 2026-12-07T06:00:00Z.

The sender puts its own outbox id in every post's metadata (bot/delivery/posted.py), so the anchor is
carried by the text, which Slack returns unchanged in conversations.history.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from workflows.audit_anchors import ON_SCHEDULE, ChainAnchored
from workflows.outbox import OutboundMessage

LINE = re.compile(
    r"^Audit anchor: entry (?P<seq>\d{1,18}), hash (?P<hash>[0-9a-f]{64}), "
    r"at (?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\."
)


def anchor_line(seq: int, digest: str, at: datetime) -> str:
    return f"Audit anchor: entry {seq}, hash {digest}, at {at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}."


def parse_anchor(text: str) -> tuple[int, str, datetime] | None:
    """(seq, hash, time) from an anchor message's text; None for any other message."""
    found = LINE.match(text or "")
    if found is None:
        return None
    at = datetime.strptime(found["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(found["seq"]), found["hash"], at


def anchor_messages(event: ChainAnchored) -> list[OutboundMessage]:
    anchor = event.anchor
    if not anchor.posted_to:
        return []  # [audit] channel not set: the database's anchor only
    who = "on schedule" if event.by == ON_SCHEDULE else "by an operator (`clearance audit anchor`)"
    text = (
        f"{anchor_line(anchor.seq, anchor.hash, anchor.at)}\n"
        f"Clearance recorded the audit trail's head here, {who}: the trail then held entries up to "
        f"{anchor.seq}, the last with this hash. Kept outside the database, it lets "
        "`clearance audit verify --slack` catch a trail later cut off or rewritten. "
        "Nothing to do; please do not edit or delete this message."
    )
    payload = {"channel": anchor.posted_to, "text": text}
    return [OutboundMessage(f"audit:{anchor.posted_to}", "chat.postMessage", payload)]
