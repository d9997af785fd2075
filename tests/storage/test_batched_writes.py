"""What a group-commit batch writes once for all its changes (issue 23): the delivery keys of forms
(handled_events) and the outbox's fold of a card's update into a stored one. Each change still
gets exactly the outcome it would have had alone."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.outbox import SENT, OutboxStore, Settled
from storage.tables import OutboxRow
from storage.uow import SqlUnitOfWork
from workflows.outbox import OutboundMessage

from .test_outbox_storage import LEASE


async def test_a_batch_of_delivery_keys_is_one_insert_and_each_key_counts_once(group, uows, statements):
    async with uows() as uow:
        assert await uow.first_delivery("stored-before")
        await uow.commit()
    statements.clear()
    keys = [f"k{n}" for n in range(20)] + ["k3"]  # one key twice
    firsts = await asyncio.gather(*(group.run(lambda uow, k=k: uow.first_delivery(k)) for k in keys))
    assert firsts == [True] * 20 + [False]
    assert group.batches < len(keys) / 2
    inserts = [s for s in statements if s.startswith("INSERT INTO handled_events")]
    assert len(inserts) <= 2 * group.batches  # the batch's keys at once (and the twice-sent one's own)
    # A key stored by an earlier batch: that batch is run again without assuming, with the same outcome.
    again = ("stored-before", "k5", "new")
    assert await asyncio.gather(*(group.run(lambda uow, k=k: uow.first_delivery(k)) for k in again)) == [
        False,
        False,
        True,
    ]
    keys += again
    async with uows() as uow:
        assert all([await uow.handled_before(k) for k in keys])
        assert not await uow.handled_before("never")


def card_update(request: int, text: str) -> OutboundMessage:
    return OutboundMessage(f"request:{request}", "chat.update", {"text": text}, target=f"card:{request}", coalesce=True)


async def outbox(uows) -> list[tuple[str | None, str, str]]:
    async with uows() as uow:
        rows = (await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars().all()
        return [(r.target, r.payload["text"], r.status) for r in rows]


async def test_updates_in_one_batch_fold_into_stored_pending_ones_with_one_look(
    group, uows, statements, sessions, clock
):
    async with uows() as uow:
        await uow.outbox.add_all([card_update(1, "1a"), card_update(2, "2a")])
        await uow.commit()
    [claimed] = [d for d in await OutboxStore(sessions).claim_due(clock(), limit=1, lease=LEASE, worker="w")]
    statements.clear()
    updates = [card_update(1, "1b"), card_update(2, "2b"), card_update(3, "3a"), card_update(1, "1c")]
    await asyncio.gather(*(group.run(lambda uow, m=m: uow.outbox.add(m)) for m in updates))
    assert group.batches < len(updates)
    # Card 1's stored update was claimed (being sent): the new one queues after it; card 2's
    # pending one takes the newest text; card 3 had none.
    rows = await outbox(uows)
    assert rows[:2] == [("card:1", "1a", "pending"), ("card:2", "2b", "pending")]
    assert sorted(rows[2:]) == [("card:1", "1c", "pending"), ("card:3", "3a", "pending")]
    assert claimed.target == "card:1"
    updating = [s for s in statements if s.startswith("UPDATE outbox SET payload")]
    assert len(updating) <= group.batches  # only for kinds that have a stored row to fold into


async def test_a_claim_says_where_the_messages_it_updates_landed_and_a_post_again_moves_them(sessions, clock):
    store = OutboxStore(sessions)
    async with SqlUnitOfWork(sessions, clock) as uow:
        post = OutboundMessage("request:1", "chat.postMessage", {"channel": "C1", "text": "card"}, store_as="card:1")
        await uow.outbox.add_all([post, card_update(1, "decided")])
        await uow.commit()
    first = await store.claim(clock(), limit=5, lease=LEASE, worker="w")
    assert [d.method for d in first.deliveries] == ["chat.postMessage"]  # the update waits for its post
    await store.settle([Settled(first.deliveries[0], SENT, clock(), channel="C1", ts="1.000100")])
    second = await store.claim(clock(), limit=5, lease=LEASE, worker="w")
    assert [d.target for d in second.deliveries] == ["card:1"]
    assert second.where == {"card:1": ("C1", "1.000100")}
    # Stored again under the same key (a card posted anew): one upsert moves it.
    await store.settle([Settled(first.deliveries[0], SENT, clock(), channel="C2", ts="2.000200")])
    assert await store.message("card:1") == ("C2", "2.000200")
