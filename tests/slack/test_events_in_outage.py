"""No Events API delivery is lost in a database outage (issue 21, row 1).

Every event Clearance subscribes to (slack-app-manifest.yml bot_events) that meets the outage is
answered 503 (over Socket Mode: not acked), so Slack delivers it again; and the delivery is not
recorded as handled, so the retry is handled once the database is back, and only once.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event

from bot.wiring.runtime import Clearance, socket_mode_handler
from tests.fakes.signing import event_callback
from tests.slack.harness import Bot, everything_said, settings_for
from tests.slack.test_directives import DEPUTY, OFFICERS, issue, settle, start, stop
from tests.slack.test_store_down import database_gone

NEWBIE = "U0NEWBIE"


@pytest.fixture
async def staff_bot(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    slack.channel_members["C0PATROL"] = [*OFFICERS, "U0CHIEF", "U0BOT"]
    bot = await start(slack, database_url, tmp_path)
    yield bot
    await stop(bot)


EVENTS = {
    "app_home_opened": {"type": "app_home_opened", "user": NEWBIE, "channel": f"D{NEWBIE}", "tab": "home"},
    "member_joined_channel": {"type": "member_joined_channel", "user": NEWBIE, "channel": "C0PATROL"},
    "member_left_channel": {"type": "member_left_channel", "user": "U0OFF001", "channel": "C0PATROL"},
    "subteam_members_changed": {"type": "subteam_members_changed", "subteam_id": "S0CMD"},
    "subteam_updated": {"type": "subteam_updated", "subteam": {"id": "S0CMD", "users": []}},
}


def test_every_subscribed_event_is_covered():
    lines = Path(__file__).parents[2].joinpath("slack-app-manifest.yml").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == "bot_events:") + 1
    subscribed = []
    for line in lines[start:]:
        if not line.strip().startswith("- "):
            break
        subscribed.append(line.split("#")[0].strip()[2:].strip())
    assert sorted(subscribed) == sorted(EVENTS)


@contextlib.contextmanager
def handling_fails(bot):
    """Every statement fails except those on handled_events: the delivery check passes, the
    handling itself meets the outage (what the dedup check alone could not catch)."""
    engines = {bot.c.database.engine.sync_engine, bot.c.database.read_engine.sync_engine}
    error = bot.c.database.engine.dialect.loaded_dbapi.OperationalError  # the serving driver's own

    def fail(_conn, _cursor, statement, *_args):
        query = statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
        if query and "handled_events" not in statement:
            raise error("the database is unreachable (injected)")

    for engine in engines:
        sa_event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        for engine in engines:
            sa_event.remove(engine, "before_cursor_execute", fail)


async def recorded(bot: Bot, event_id: str) -> bool:
    async with bot.c.reading() as uow:
        return await uow.handled_before(f"event:{event_id}")


@pytest.mark.parametrize("name", sorted(EVENTS))
async def test_an_event_that_meets_the_outage_is_answered_503_and_handled_on_slacks_retry(staff_bot, name):
    bot = staff_bot
    delivery = event_callback(dict(EVENTS[name]), event_id=f"Ev0{name.upper()[:20]}")
    with database_gone(bot):
        assert (await bot.http.event(delivery)).status_code == 503
    assert not await recorded(bot, delivery["event_id"])
    assert (await bot.http.event(delivery, retry_num=1)).status_code == 200
    assert await recorded(bot, delivery["event_id"])
    assert (await bot.http.event(delivery, retry_num=2)).status_code == 200  # recorded: not handled again


async def test_a_newcomer_whose_join_fails_inside_the_listener_is_shown_the_directive_on_the_retry(staff_bot, slack):
    """The delivery check passed (and recorded nothing yet); the listener met the outage."""
    bot = staff_bot
    ref = await issue(bot, channels=("C0PATROL",))
    slack.channel_members["C0PATROL"].append(NEWBIE)
    joined = event_callback(dict(EVENTS["member_joined_channel"]), event_id="Ev0JOINFAIL")
    with handling_fails(bot):
        assert (await bot.http.event(joined)).status_code == 503
    await settle(bot)
    assert bot.ephemerals(NEWBIE) == []
    assert not await recorded(bot, "Ev0JOINFAIL")
    assert (await bot.http.event(joined, retry_num=1)).status_code == 200
    assert (await bot.http.event(joined, retry_num=2)).status_code == 200
    await settle(bot)
    (welcome,) = bot.ephemerals(NEWBIE)
    assert ref in everything_said(welcome)


async def test_a_home_tab_opened_while_the_listener_meets_the_outage_is_published_on_the_retry(staff_bot, slack):
    bot = staff_bot
    opened = event_callback(dict(EVENTS["app_home_opened"]), event_id="Ev0HOMEFAIL")
    with handling_fails(bot):
        assert (await bot.http.event(opened)).status_code == 503
    await bot.settle()
    assert NEWBIE not in slack.home_views
    assert (await bot.http.event(opened, retry_num=1)).status_code == 200
    await slack.wait_for("views.publish", where=lambda c: c.args.get("user_id") == NEWBIE)
    assert NEWBIE in slack.home_views


# --- Socket Mode: an envelope that could not be handled is not acked ------------------------------


@pytest.fixture
async def socket_bot(slack, database_url, tmp_path):
    c = Clearance(settings_for(slack, database_url, tmp_path, SLACK_APP_TOKEN="xapp-test"))
    c.sender.poll_seconds = 0.05
    await c.start()
    handler = socket_mode_handler(c)
    await handler.connect_async()
    await slack.socket_connected.wait()
    yield Bot(c, None, slack)  # type: ignore[arg-type]  # no HTTP client: everything over the socket
    await handler.close_async()
    await c.stop()


async def test_an_event_envelope_that_meets_the_outage_is_not_acked_and_its_redelivery_is_handled(socket_bot, slack):
    bot = socket_bot
    opened = event_callback(dict(EVENTS["app_home_opened"]), event_id="Ev0SOCKHOME")
    with handling_fails(bot), pytest.raises(TimeoutError):  # no ack: Slack sends the envelope again
        await slack.socket_send("events_api", opened, timeout=1.5)
    assert not await recorded(bot, "Ev0SOCKHOME")
    ack = await slack.socket_send("events_api", opened, retry_attempt=1, retry_reason="timeout")
    assert "envelope_id" in ack
    await slack.wait_for("views.publish", where=lambda c: c.args.get("user_id") == NEWBIE)
    assert await recorded(bot, "Ev0SOCKHOME")
