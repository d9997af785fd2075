"""anchor_chain (workflows/audit_anchors.py) with an in-memory store and a fixed clock, and the
message it implies (bot/messages/anchors.py) read back by parse_anchor."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages.anchors import anchor_messages, parse_anchor
from tests.fakes.unit_of_work import FakeAnchors, FakeUnitOfWork
from workflows.audit_anchors import BY_OPERATOR, ON_SCHEDULE, Anchored, ChainAnchored, ChainHead, anchor_chain
from workflows.policy import AuditSettings

AT = datetime(2026, 12, 7, 6, 0, 30, tzinfo=UTC)
HASH = "5e" * 32


async def test_the_head_is_anchored_once_until_the_trail_moves_on():
    uow, audit = FakeUnitOfWork(), AuditSettings(channel="C0AUDIT")
    assert await anchor_chain(uow, audit, ON_SCHEDULE, AT) == []  # an empty trail: nothing to witness
    uow.audit_anchors.now = ChainHead(44, HASH)
    [event] = await anchor_chain(uow, audit, ON_SCHEDULE, AT)
    assert event == ChainAnchored(Anchored(44, HASH, AT, "C0AUDIT"), ON_SCHEDULE)
    assert await anchor_chain(uow, audit, ON_SCHEDULE, AT) == []  # the same head: no second message
    uow.audit_anchors.now = ChainHead(45, "6f" * 32)
    assert len(await anchor_chain(uow, audit, BY_OPERATOR, AT)) == 1
    assert [a.seq for a in uow.audit_anchors.recorded] == [44, 45]


async def test_without_a_channel_the_anchor_is_recorded_and_nothing_is_posted():
    uow = FakeUnitOfWork(audit_anchors=FakeAnchors(ChainHead(3, HASH)))
    [event] = await anchor_chain(uow, AuditSettings(), ON_SCHEDULE, AT)
    assert event.anchor.posted_to == "" and anchor_messages(event) == []


def test_the_message_says_the_head_in_a_form_verify_reads_back():
    [message] = anchor_messages(ChainAnchored(Anchored(44, HASH, AT, "C0AUDIT"), ON_SCHEDULE))
    assert (message.method, message.payload["channel"]) == ("chat.postMessage", "C0AUDIT")
    text = message.payload["text"]
    assert text.startswith(f"Audit anchor: entry 44, hash {HASH}, at 2026-12-07T06:00:30Z.\n")
    assert "on schedule" in text and "`clearance audit verify --slack`" in text
    assert parse_anchor(text) == (44, HASH, AT)
    assert parse_anchor("Audit anchor: entry 44, hash 5e5e, at 2026-12-07T06:00:30Z.") is None
    assert parse_anchor("> " + text) is None
