"""When the database cannot be reached, the person is told at once that nothing was saved.

The outbox lives in the same database, so the answer goes by a route that needs none: the
form's own response (it stays open with the error), the click's response_url, the slash
command's response. The fault is injected at the driver boundary: every statement fails the
way a dead connection or a read-only/full disk makes the driver fail.
"""

from __future__ import annotations

import contextlib
import sqlite3

from sqlalchemy import event

from tests.fakes.fake_slack import RESPONSE_URL_METHOD
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import form_values


@contextlib.contextmanager
def database_gone(bot):
    # Every statement fails, on the engine that writes and the one that reads (SQLite has two).
    engines = {bot.c.database.engine.sync_engine, bot.c.database.read_engine.sync_engine}
    dialect = bot.c.database.engine.dialect.name
    # The driver's own error, as its connection raises it (asyncpg's through SQLAlchemy's adapter).
    dbapi = bot.c.database.engine.dialect.loaded_dbapi
    error = sqlite3.OperationalError if dialect == "sqlite" else dbapi.OperationalError

    def fail(*_args, **_kwargs):
        raise error("the database is unreachable (injected)")

    for engine in engines:
        event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", fail)


async def open_form(bot) -> dict:
    await bot.http.command("/request-tool", "Clearview AI", "U0OFFICER")
    return (await bot.slack.wait_for("views.open"))[-1].args["view"]


async def test_a_form_submitted_while_the_database_is_gone_stays_open_and_says_nothing_was_saved(bot):
    view = await open_form(bot)
    submission = view_submission(view["callback_id"], form_values(), "U0OFFICER", blocks=view["blocks"])
    with database_gone(bot):
        response = await bot.http.submit(submission)
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    [message] = answer["errors"].values()
    assert "Nothing was saved" in message and "try again" in message
    async with bot.c.reading() as uow:
        assert await uow.requests.for_requester("U0OFFICER") == []
    # The database is back: the same form, submitted again, is stored.
    response = await bot.http.submit(submission)
    assert response.text in ("", "null"), response.text
    async with bot.c.reading() as uow:
        assert len(await uow.requests.for_requester("U0OFFICER")) == 1


async def test_a_click_while_the_database_is_gone_is_answered_privately_at_once(bot):
    request_id = await bot.request_tool()
    card = bot.card("C0ITSEC")
    button = card.buttons["review-approve"]
    click = block_action(
        "review-approve",
        button["value"],
        "U0SEC1",
        channel_id=card.channel,
        message_ts=card.ts,
        response_url=bot.slack.new_response_url("approve"),
    )
    with database_gone(bot):
        response = await bot.http.action(click)
        assert response.status_code == 200
        [answer] = await bot.slack.wait_for(RESPONSE_URL_METHOD)
    assert answer.args["response_type"] == "ephemeral"
    assert "Nothing was saved" in answer.args["text"]
    async with bot.c.reading() as uow:
        request = await uow.requests.get(request_id)
    assert request.stage_key == "it_security" and request.decisions == []


async def test_tool_status_while_the_database_is_gone_answers_in_the_command_response(bot):
    with database_gone(bot):
        response = await bot.http.command("/tool-status", "Clearview", "U0OFFICER")
    assert response.status_code == 200
    assert "cannot reach its database" in response.json()["text"]


async def test_a_form_whose_change_waited_too_long_to_be_written_says_so_and_nothing_is_saved(bot):
    """The store swamped (a change waited past GroupCommit.max_wait): refused while Slack still shows
    the answer, so the officer is not told 'error' for a request that is then stored anyway."""
    view = await open_form(bot)
    submission = view_submission(view["callback_id"], form_values(), "U0OFFICER", blocks=view["blocks"])
    in_time, bot.c.writes.max_wait = bot.c.writes.max_wait, -1.0  # every change has waited too long
    try:
        response = await bot.http.submit(submission)
    finally:
        bot.c.writes.max_wait = in_time
    [message] = response.json()["errors"].values()
    assert "Nothing was saved" in message and "too busy" in message
    async with bot.c.reading() as uow:
        assert await uow.requests.for_requester("U0OFFICER") == []
