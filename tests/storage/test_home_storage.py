"""Storage for the Home tab: who has one, and coalescing its publishes in the outbox.

Coalescing: a newer pending call replaces an older one of the same kind. With a target
(chat.update of one stored message) and, for Home tab publishes, without one: the same method in
the same queue (``home:<user>``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.home import SqlHomeTabs
from storage.outbox import OutboundMessage, OutboxStore
from storage.tables import OutboxRow
from storage.uow import uow_factory


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


def publish(user: str, version: int) -> OutboundMessage:
    view = {"type": "home", "blocks": [], "private_metadata": str(version)}
    return OutboundMessage(f"home:{user}", "views.publish", {"user_id": user, "view": view}, coalesce=True)


async def add(uows, *messages: OutboundMessage) -> None:
    """In a transaction of their own (rows added in the same transaction are not flushed yet)."""
    async with uows() as uow:
        await uow.outbox.add_all(list(messages))
        await uow.commit()


async def pending(sessions) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.status == "pending").order_by(OutboxRow.id))
        return [(r.queue, r.method, (r.payload.get("view") or {}).get("private_metadata", "")) for r in rows]


async def test_a_pending_publish_for_the_same_person_is_replaced(uows, sessions):
    await add(uows, publish("U1", 1), publish("U2", 1))
    await add(uows, publish("U1", 2))
    await add(uows, publish("U1", 3))
    assert await pending(sessions) == [("home:U1", "views.publish", "3"), ("home:U2", "views.publish", "1")]


async def test_a_publish_already_being_sent_is_not_replaced_but_followed(uows, sessions, clock):
    await add(uows, publish("U1", 1))
    [claimed] = await OutboxStore(sessions).claim_due(clock(), limit=10, lease=timedelta(seconds=60), worker="w")
    await add(uows, publish("U1", 2))
    await add(uows, publish("U1", 3))
    rows = await pending(sessions)
    assert rows == [("home:U1", "views.publish", "1"), ("home:U1", "views.publish", "3")]
    assert claimed.payload["view"]["private_metadata"] == "1"  # goes out first: the queue keeps order


async def test_calls_without_coalesce_or_of_another_method_are_kept(uows, sessions):
    other = OutboundMessage("home:U1", "chat.postMessage", {"channel": "U1", "text": "hi"}, coalesce=True)
    plain = OutboundMessage("home:U1", "views.publish", {"user_id": "U1", "view": {"private_metadata": "x"}})
    for message in (publish("U1", 1), other, publish("U1", 2), plain):
        await add(uows, message)
    assert await pending(sessions) == [
        ("home:U1", "views.publish", "2"),
        ("home:U1", "chat.postMessage", ""),
        ("home:U1", "views.publish", "x"),  # not asked to coalesce: queued after the others
    ]


async def test_targeted_updates_still_coalesce_per_target(uows, sessions):
    def update(target: str, text: str) -> OutboundMessage:
        return OutboundMessage("request:1", "chat.update", {"text": text}, target=target, coalesce=True)

    for message in (update("card:1:a", "1"), update("card:1:b", "1"), update("card:1:a", "2")):
        await add(uows, message)
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
    assert [(r.target, r.payload["text"]) for r in rows] == [("card:1:a", "2"), ("card:1:b", "1")]


async def test_people_who_opened_their_home_tab_are_remembered_once(uows, clock):
    async with uows() as uow:
        tabs = SqlHomeTabs(uow.session)
        assert await tabs.opened("U1", clock())
        assert not await tabs.opened("U1", clock())  # the second time changes nothing
        await tabs.opened("U2", clock())
        await uow.commit()
    async with uows() as uow:
        many = [f"U{n}" for n in range(1200)]  # more than one IN list's worth
        assert await SqlHomeTabs(uow.session).having_home(many) == {"U1", "U2"}
        assert await SqlHomeTabs(uow.session).having_home([]) == set()


async def test_urgent_messages_go_before_a_backlog_of_bulk_ones(sessions, clock):
    """Thousands of reminder DMs must not hold back a review card queued after them."""
    from datetime import timedelta

    from storage.outbox import BULK, OutboundMessage, OutboxStore
    from storage.uow import SqlUnitOfWork

    async with SqlUnitOfWork(sessions, clock) as uow:
        for n in range(50):
            await uow.outbox.add(OutboundMessage(f"remind:U{n}", "chat.postMessage", {"n": n}, priority=BULK))
        await uow.outbox.add(OutboundMessage("request:1", "chat.postMessage", {"card": True}))
        await uow.commit()
    claimed = await OutboxStore(sessions).claim_due(clock(), limit=5, lease=timedelta(seconds=60), worker="w")
    assert claimed[0].payload == {"card": True}
    assert [d.payload.get("n") for d in claimed[1:]] == [0, 1, 2, 3]
