"""SQLite as the bot opens it (storage/db.py: open_database): every write transaction queues for
one connection on the event loop, first come first served; reads have their own connections and
never wait for a writer."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from storage.db import migrate, open_database


async def test_writers_take_turns_and_readers_never_wait(tmp_path):
    url = f"sqlite:///{tmp_path / 'clearance.db'}"
    migrate(url)
    database = open_database(url)
    order: list[str] = []

    async def write(name: str) -> None:
        async with database.sessions() as session, session.begin():
            await session.execute(
                text("INSERT INTO handled_events (event_id, handled_at) VALUES (:k, CURRENT_TIMESTAMP)"), {"k": name}
            )
            order.append(name)

    try:
        async with database.sessions() as first, first.begin():
            await first.execute(
                text("INSERT INTO handled_events (event_id, handled_at) VALUES ('first', CURRENT_TIMESTAMP)")
            )
            second, third = asyncio.create_task(write("second")), asyncio.create_task(write("third"))
            await asyncio.sleep(0.2)
            assert not second.done() and not third.done()  # waiting for the one writer
            # A reader goes ahead, and sees the last commit (not the open transaction's row).
            async with database.read_sessions() as reader:
                count = await asyncio.wait_for(reader.scalar(text("SELECT count(*) FROM handled_events")), 2)
            assert count == 0
            order.append("first")
        await asyncio.wait_for(asyncio.gather(second, third), 5)
        assert order == ["first", "second", "third"]  # in the order they asked
        async with database.read_sessions() as reader:
            assert await reader.scalar(text("SELECT count(*) FROM handled_events")) == 3
    finally:
        await database.dispose()
