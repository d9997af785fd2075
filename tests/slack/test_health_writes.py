"""A write the write path saw refused makes /healthz 503 at once, until a write succeeds (issue 21, row 2).

The probe alone cannot see it: on SQLite it only reads (a full disk still reads), and on PostgreSQL
it writes through a connection of its own. The refusal is injected at the driver boundary, on
write statements only, the way a full disk, a read-only file or a server refusing writes fails.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from tests.fakes.signing import view_submission
from tests.slack.harness import form_values

OK = {"status": "ok"}


@contextlib.contextmanager
def writes_refused(bot, message: str):
    engine = bot.c.database.engine.sync_engine
    # The serving driver's own error (sqlite3, asyncpg's adapter), as SQLAlchemy sees a real refusal.
    error = engine.dialect.loaded_dbapi.OperationalError

    def refuse(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise error(message)

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


async def submit(bot) -> dict | None:
    await bot.http.command("/request-tool", "Clearview AI", "U0OFFICER")
    view = (await bot.slack.wait_for("views.open"))[-1].args["view"]
    response = await bot.http.submit(view_submission(view["callback_id"], form_values(), "U0OFFICER"))
    assert response.status_code == 200
    return response.json() if response.text not in ("", "null") else None


@pytest.mark.parametrize("message", ["database or disk is full", "attempt to write a readonly database"])
async def test_health_is_503_from_the_first_refused_write_until_a_write_succeeds(bot, message):
    assert (await bot.http.client.get("/healthz")).json() == OK
    with writes_refused(bot, message):
        answer = await submit(bot)
        assert answer is not None and "Nothing was saved" in str(answer)  # the person was told
        response = await bot.http.client.get("/healthz")  # at once: no cache period to wait out
        assert response.status_code == 503
        assert response.json()["database"] == "writes failing: OperationalError"
    # The disk has room again, but nothing has been written yet: still 503.
    assert (await bot.http.client.get("/healthz")).status_code == 503
    assert await submit(bot) is None  # stored
    response = await bot.http.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, OK)
