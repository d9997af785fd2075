"""At most one copy of every message: a post whose outcome is unknown is looked for before it is sent again.

Slack is made to carry out a chat.postMessage and then hold its answer back (FakeSlack.answer_late)
while the bot times out, or is killed (kill -9 of a real `clearance serve`). The message is in the
channel; the bot must find it (its metadata names the outbox row) and adopt it, not post it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event

from bot.delivery.sender import SlackSender
from bot.messages.ids import ActionId
from bot.messages.outbound import ephemeral
from storage.db import create_engine, session_factory
from storage.outbox import OutboundMessage, OutboxStore, SqlOutbox
from tests.fakes.signing import SlackHttp, block_action, view_submission
from tests.serving import Serve, free_port, serve_env
from tests.slack.harness import CONFIG, SECRET, form_values, start_bot, stop_bot

CARDS = "C0ITSEC"


def in_channel(channel: str):
    return lambda args: args.get("channel") == channel


def quick(c) -> None:
    """A client that gives up after a second, and a sender that looks again soon after."""
    c.client.timeout = 1.0
    c.sender.doubt_wait = timedelta(seconds=0.1)


async def nothing_pending(store: OutboxStore) -> None:
    """Wait until no outbox row is left to send: no sender can claim, so none can post, any more."""
    for _ in range(400):
        if "pending" not in await store.counts():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"rows still to send after 20 s: {await store.counts()}")


def posts_to(slack, channel: str) -> list:
    return [c for c in slack.all_calls_to("chat.postMessage") if c.args.get("channel") == channel]


async def test_a_post_answered_after_the_time_out_is_adopted_not_posted_again(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.answer_late("chat.postMessage", 2.5, where=in_channel(CARDS))  # posted; the answer comes too late
        await bot.request_tool()
        assert len(posts_to(slack, CARDS)) == 1 and len(slack.messages_in(CARDS)) == 1
        [lookup] = slack.calls_to("conversations.history")
        assert lookup.args["channel"] == CARDS and lookup.args["include_all_metadata"] in ("1", "true")
        # Adopted as the card: the decision updates that message in place.
        card = bot.card(CARDS)
        await bot.click(card, ActionId.APPROVE, "U0SEC1")
        await bot.settle()
        [update] = slack.calls_to("chat.update")
        assert (update.args["channel"], update.args["ts"]) == (card.channel, card.ts)
        assert bot.card(CARDS).buttons == {} and len(slack.messages_in(CARDS)) == 1
        assert len(slack.messages_in("C0PRIV")) == 1
    finally:
        await stop_bot(bot)


async def test_a_direct_message_whose_answer_timed_out_is_found_in_the_dm_channel(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.answer_late("chat.postMessage", 2.5, where=in_channel("U0OFFICER"))
        await bot.request_tool()
        assert len(posts_to(slack, "U0OFFICER")) == 1 and len(slack.messages_in(slack.dm_with("U0OFFICER"))) == 1
        [opened] = slack.calls_to("conversations.open")
        assert opened.args["users"] == "U0OFFICER"  # a DM to a user id: its channel comes from Slack
        assert [c.args["channel"] for c in slack.calls_to("conversations.history")] == [slack.dm_with("U0OFFICER")]
    finally:
        await stop_bot(bot)


async def test_a_post_that_never_reached_slack_is_looked_for_then_posted_once(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.drop_next("chat.postMessage", where=in_channel(CARDS))  # connection lost: did Slack get it?
        await bot.request_tool()
        [history] = slack.calls_to("conversations.history")
        assert history.response["messages"] == []  # it did not
        assert [c.attempt_status for c in posts_to(slack, CARDS)] == [0, 200]
        assert len(slack.messages_in(CARDS)) == 1
    finally:
        await stop_bot(bot)


async def test_a_rate_limited_look_up_waits_and_never_posts_blind(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.answer_late("chat.postMessage", 2.5, where=in_channel(CARDS))
        slack.fail_next("conversations.history", status=429, retry_after=1)
        await bot.request_tool()
        assert [c.attempt_status for c in slack.all_calls_to("conversations.history")] == [429, 200]
        assert len(posts_to(slack, CARDS)) == 1 and len(slack.messages_in(CARDS)) == 1
    finally:
        await stop_bot(bot)


async def test_a_look_up_that_cannot_work_posts_anyway_and_says_so(slack, database_url, tmp_path, caplog):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.missing_scopes["conversations.history"] = "channels:history"  # app not reinstalled
        slack.drop_next("chat.postMessage", where=in_channel(CARDS))
        with caplog.at_level(logging.WARNING, logger="clearance.sender"):
            await bot.request_tool()
        assert len(slack.messages_in(CARDS)) == 1  # not lost
        assert any("missing_scope (needs channels:history)" in r.getMessage() for r in caplog.records)
    finally:
        await stop_bot(bot)


async def test_an_ephemeral_whose_outcome_is_unknown_is_not_sent_again(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.answer_late("chat.postEphemeral", 2.5)
        await bot.c.changes.enqueue([ephemeral(CARDS, "U0SEC1", "Already decided.")])
        await bot.settle()
        assert len(slack.all_calls_to("chat.postEphemeral")) == 1
        [(_, method, _, error)] = await bot.c.outbox.failures()
        assert method == "chat.postEphemeral" and "cannot be looked up" in error
    finally:
        await stop_bot(bot)


async def test_the_normal_path_costs_no_look_up_and_one_claim_and_one_settle_per_batch(slack, database_url):
    """Measured: Slack calls and database transactions for a batch of posts, none in doubt."""
    engine = create_engine(database_url)
    transactions: list[str] = []
    event.listen(engine.sync_engine, "begin", lambda conn: transactions.append("begin"))
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sender = SlackSender(OutboxStore(sessions), client, batch=20)
    try:
        async with sessions() as session, session.begin():
            outbox = SqlOutbox(session, sender.clock())
            for i in range(20):
                await outbox.add(OutboundMessage(f"q{i}", "chat.postMessage", {"channel": CARDS, "text": f"{i}"}))
        transactions.clear()
        assert await sender.drain_once() == 20
        assert len(transactions) == 2  # one claim, one settle: the doubt travels in the claim's UPDATE
        assert len(slack.calls_to("chat.postMessage")) == 20
        assert slack.all_calls_to("conversations.history") == [] and slack.all_calls_to("conversations.open") == []
        ids = {c.args["metadata"]["event_payload"]["outbox_id"] for c in slack.calls_to("chat.postMessage")}
        assert len(ids) == 20 and {c.args["metadata"]["event_type"] for c in slack.calls_to("chat.postMessage")} == {
            "clearance_outbox"
        }
    finally:
        await engine.dispose()


async def test_a_connection_never_made_leaves_no_doubt(database_url):
    """Nothing reached Slack (connection refused): retried as usual, no look-up needed."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{free_port()}/api/")
    sender = SlackSender(OutboxStore(sessions), client)
    try:
        async with sessions() as session, session.begin():
            await SqlOutbox(session, sender.clock()).add(
                OutboundMessage("q", "chat.postMessage", {"channel": CARDS, "text": "hi"})
            )
        assert await sender.drain_once() == 1
        assert await sender.store.counts() == {"pending": 1} and await sender.store.in_doubt() == 0
    finally:
        await engine.dispose()


async def test_two_senders_never_both_post_a_row_when_slack_is_slower_than_the_claim(slack, database_url):
    """A batch slower than its lease: what is left is not sent, so another process taking it over
    cannot post it at the same moment (two posts in flight cannot see each other)."""
    slack.delays["chat.postMessage"] = 0.3
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    senders = [
        SlackSender(OutboxStore(sessions), client, concurrency=1, lease=timedelta(seconds=1), poll_seconds=0.05)
        for _ in range(2)
    ]
    try:
        async with sessions() as session, session.begin():
            outbox = SqlOutbox(session, senders[0].clock())
            for i in range(8):
                await outbox.add(OutboundMessage(f"q{i}", "chat.postMessage", {"channel": CARDS, "text": f"{i}"}))
        for sender in senders:
            sender.start()
        await slack.wait_for("chat.postMessage", count=8, timeout=20)
        # A late double would land now. (Not a wait for an event: the rows whose answers came after
        # their claims lapsed are in doubt, looked for only after a back-off of up to 9 s.)
        await asyncio.sleep(1.5)
    finally:
        for sender in senders:
            await sender.stop()
        await engine.dispose()
    posted = Counter(c.args["metadata"]["event_payload"]["outbox_id"] for c in slack.calls_to("chat.postMessage"))
    assert len(posted) == 8 and set(posted.values()) == {1}, posted


async def test_kill_9_while_slack_answers_a_card_post_then_restart_leaves_one_card(slack, database_url, tmp_path):
    config = tmp_path / "clearance.toml"
    config.write_text(CONFIG, encoding="utf-8")
    env = serve_env(api_url=slack.api_url, secret=SECRET, database_url=database_url, config=config)
    env["CLEARANCE_OUTBOX_LEASE"] = "2s"  # how long the dead process's claim keeps others off
    slack.answer_late("chat.postMessage", None, where=in_channel(CARDS))  # held until released
    first = Serve("first", tmp_path, env)
    second = Serve("second", tmp_path, env)
    try:
        await first.start()
        await first.healthy()
        async with SlackHttp(SECRET, base_url=first.url) as http:
            assert (await http.command("/request-tool", "Clearview AI", "U0OFFICER")).status_code == 200
            [opened] = await slack.wait_for("views.open")
            submitted = view_submission(opened.args["view"]["callback_id"], form_values(), "U0OFFICER", view_id="V1")
            assert (await http.submit(submitted)).status_code == 200
        await slack.wait_held()  # Slack has posted the card and is still answering...
        await first.kill()  # ...when the bot dies
        slack.release()
        assert len(slack.messages_in(CARDS)) == 1

        await second.start()
        await second.healthy()
        # The officer's DM (its own queue) went out beside the card, in the batch the dead process
        # never settled: both are in doubt, each looked for in its channel, neither posted again.
        await slack.wait_for("conversations.history", count=2, timeout=15)
        # Rather than waiting for a second post: nothing left to send, and Slack answering nothing.
        engine = create_engine(database_url)
        try:
            await nothing_pending(OutboxStore(session_factory(engine)))
        finally:
            await engine.dispose()
        await slack.idle()
        assert len(posts_to(slack, "U0OFFICER")) == 1
        assert len(slack.messages_in(CARDS)) == 1 and len(posts_to(slack, CARDS)) == 1
        looked_in = sorted(c.args["channel"] for c in slack.calls_to("conversations.history"))
        assert looked_in == [CARDS, slack.dm_with("U0OFFICER")], slack.describe_calls()

        # The one card is the card of record: its button works and the decision updates it.
        (channel, ts), message = next((k, m) for k, m in slack.messages.items() if k[0] == CARDS)
        button = next(
            e for b in message["blocks"] for e in b.get("elements") or [] if e.get("action_id") == ActionId.APPROVE
        )
        click = block_action(
            ActionId.APPROVE, button["value"], "U0SEC1", channel_id=channel, message_ts=ts, message=message
        )
        async with SlackHttp(SECRET, base_url=second.url) as http:
            assert (await http.action(click)).status_code == 200
        [update] = await slack.wait_for("chat.update", timeout=10)
        assert (update.args["channel"], update.args["ts"]) == (channel, ts)
        await slack.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C0PRIV", timeout=10)
        assert len(slack.messages_in(CARDS)) == 1
    finally:
        await first.kill()
        await second.stop()
    output = await second.output()
    assert "Traceback" not in output and "adopted" in output, output


async def test_an_update_whose_post_is_queued_elsewhere_waits_for_it(slack, database_url):
    """A card's post and its updates share a queue; an update that meets its post still pending in
    another queue (rows an older version stored) waits for it, and then reaches the posted card."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sender = SlackSender(OutboxStore(sessions), client, poll_seconds=0.05)
    slack.delays["chat.postMessage"] = 0.3  # the post is still in flight when the update is tried
    try:
        async with sessions() as session, session.begin():
            outbox = SqlOutbox(session, sender.clock())
            card = {"channel": CARDS, "text": "waiting"}
            await outbox.add(OutboundMessage("request:9", "chat.postMessage", card, store_as="card:9:x"))
            await outbox.add(OutboundMessage("card:9:x", "chat.update", {"text": "decided"}, target="card:9:x"))
        sender.start()
        [updated] = await slack.wait_for("chat.update", timeout=10)
    finally:
        await sender.stop()
        await engine.dispose()
    [posted] = slack.calls_to("chat.postMessage")
    assert (updated.args["channel"], updated.args["ts"]) == (CARDS, posted.response["ts"])
    assert slack.message(CARDS, posted.response["ts"])["text"] == "decided"


async def test_an_update_whose_post_another_process_settles_meanwhile_reaches_the_card(slack, database_url):
    """Two processes: A posts the card while B, having read where the batch's cards are before A
    settled it, comes to the card's update in another queue. B must look again, not give up."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    a = SlackSender(OutboxStore(sessions), client, batch=1)
    b = SlackSender(OutboxStore(sessions), client, batch=50, concurrency=1)
    slack.delays["chat.postMessage"] = 0.5
    try:
        async with sessions() as session, session.begin():
            outbox = SqlOutbox(session, a.clock())
            card = {"channel": CARDS, "text": "waiting"}
            await outbox.add(OutboundMessage("request:9", "chat.postMessage", card, store_as="card:9:x"))
            for i in range(3):  # B sends these first, one at a time, while A's post lands
                await outbox.add(OutboundMessage(f"other{i}", "chat.postMessage", {"channel": CARDS, "text": f"{i}"}))
            await outbox.add(OutboundMessage("card:9:x", "chat.update", {"text": "decided"}, target="card:9:x"))
        posting = asyncio.create_task(a.drain_once())
        await asyncio.sleep(0.1)  # A has claimed the post
        await b.drain_once()
        await posting
        assert await b.store.failures() == []
    finally:
        await engine.dispose()
    [updated] = slack.calls_to("chat.update")
    [posted] = [c for c in slack.calls_to("chat.postMessage") if c.args["text"] == "waiting"]
    assert (updated.args["channel"], updated.args["ts"]) == (CARDS, posted.response["ts"])


async def test_no_call_outlives_its_claim_even_with_a_longer_time_out(slack, database_url):
    """A lease (1 s) shorter than the client's time-out (10 s) and a Slack that takes 1.5 s to post.
    Were the call still in flight when the claim lapsed, the process taking the row over would look
    in the channel too early, find nothing and post a second copy. The call is cut off before the
    claim lapses and the row recorded in doubt, looked up only after doubt_wait: one copy, adopted."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    def sender() -> SlackSender:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, timeout=10, retry_handlers=[])
        wait = timedelta(seconds=2)  # Slack has finished what it was doing by then
        return SlackSender(
            OutboxStore(sessions), client, lease=timedelta(seconds=1), poll_seconds=0.05, doubt_wait=wait
        )

    a, b = sender(), sender()
    slack.delays["chat.postMessage"] = 1.5  # Slack posts 1.5 s after the call, whether or not anyone waits
    try:
        async with sessions() as session, session.begin():
            await SqlOutbox(session, a.clock()).add(
                OutboundMessage("q", "chat.postMessage", {"channel": CARDS, "text": "x"})
            )
        a.start()
        await asyncio.sleep(0.3)
        b.start()
        await nothing_pending(a.store)
        assert await a.store.counts() == {"sent": 1}
        # Rather than waiting for a late second copy: both stopped (stop waits for a batch in
        # flight), then Slack done with every call, the ones whose caller gave up included.
        await a.stop()
        await b.stop()
        await slack.idle()
    finally:
        await a.stop()
        await b.stop()
        await engine.dispose()
    assert len(slack.messages_in(CARDS)) == 1 and len(slack.all_calls_to("chat.postMessage")) == 1
    assert len(slack.calls_to("conversations.history")) >= 1  # adopted after a look-up


async def test_a_post_answered_by_a_gateway_error_after_slack_posted_it_is_adopted(slack, database_url):
    """A 504 (or 500, 502) can come back although Slack posted the message: the sender looks in the
    channel before posting again, finds it and adopts it. (503 is Slack turning work away.)"""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
    sender = SlackSender(OutboxStore(sessions), client, poll_seconds=0.05, doubt_wait=timedelta(0))
    slack.fail_next("chat.postMessage", status=504, carried_out=True)
    try:
        async with sessions() as session, session.begin():
            card = {"channel": CARDS, "text": "card"}
            await SqlOutbox(session, sender.clock()).add(OutboundMessage("q", "chat.postMessage", card))
        sender.start()
        await slack.wait_for("conversations.history", timeout=10)
        for _ in range(50):
            if await sender.store.counts() == {"sent": 1}:
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.stop()
        await engine.dispose()
    assert len(slack.messages_in(CARDS)) == 1
    assert [c.attempt_status for c in slack.all_calls_to("chat.postMessage")] == [504]  # never posted again
    assert await sender.store.counts() == {"sent": 1}


async def test_a_post_in_doubt_in_a_channel_too_busy_for_one_page_is_found_pages_back(slack, database_url, tmp_path):
    """Forty messages came after the card before the look-up: it is three pages back (15 a page)."""
    bot = await start_bot(slack, database_url, tmp_path, configure=quick)
    try:
        slack.answer_late("chat.postMessage", 2.5, where=in_channel(CARDS))
        requesting = asyncio.create_task(bot.request_tool())
        await slack.wait_held()
        for n in range(40):  # the channel is busy: people talk after the card is posted
            ts = slack._next_ts()
            slack.messages[(CARDS, ts)] = {"channel": CARDS, "ts": ts, "text": f"chatter {n}", "user": "U0SEC2"}
        request_id = await requesting
        await bot.settle()
        assert len(posts_to(slack, CARDS)) == 1  # found, not posted again
        lookups = slack.calls_to("conversations.history")
        assert len(lookups) >= 3 and all(c.args["channel"] == CARDS for c in lookups)
        assert not lookups[0].args.get("cursor") and all(c.args.get("cursor") for c in lookups[1:])
        card = bot.card(CARDS, f"REQ-{request_id:04d}")
        await bot.click(card, ActionId.APPROVE, "U0SEC1")  # adopted: the decision updates it in place
        await bot.settle()
        [update] = slack.calls_to("chat.update")
        assert (update.args["channel"], update.args["ts"]) == (card.channel, card.ts)
    finally:
        await stop_bot(bot)
