"""`clearance backup` of a live SQLite database (issue 22): taken while the bot writes, restored, the
audit trail checks out and the restored database takes requests."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing

from bot.cli import main
from storage.db import migrate
from tests.slack.harness import start_bot, stop_bot


def requests_in(path) -> int:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM tool_requests").fetchone()[0]


async def test_a_backup_of_a_live_database_restores_whole_and_takes_requests(slack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    live = tmp_path / "live.db"
    migrate(f"sqlite:///{live}")
    bot = await start_bot(slack, f"sqlite:///{live}", tmp_path)
    try:
        await bot.request_tool(tool_name="Clearview")
        # The request's commit is still in the write-ahead log: a copy of live.db alone would lack it.
        assert (tmp_path / "live.db-wal").stat().st_size > 0
        naive = tmp_path / "copied.db"
        shutil.copyfile(live, naive)
        assert requests_in(naive) == 0
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{live}")
        # While the bot is running and holds its connections.
        assert await asyncio.to_thread(main, ["backup", "--out", "clearance-1.backup"]) == 0
    finally:
        await stop_bot(bot)
    backup = tmp_path / "clearance-1.backup"
    assert requests_in(backup) == 1
    assert sorted(p.name for p in tmp_path.glob("*.partial")) == []

    # Restore: the bot stopped, the backup copied into place, DATABASE_URL pointed at it.
    restored = tmp_path / "restored.db"
    shutil.copyfile(backup, restored)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{restored}")
    assert main(["audit", "verify"]) == 0
    # The same Slack: a view id from before the backup is one the restored database has handled.
    bot = await start_bot(slack, f"sqlite:///{restored}", tmp_path)
    try:
        await bot.request_tool(tool_name="Stingray", vendor="Harris Corporation")
        async with bot.c.uow() as uow:
            tools = sorted(r.tool_name for r in await uow.requests.for_requester("U0OFFICER"))
    finally:
        await stop_bot(bot)
    assert tools == ["Clearview", "Stingray"]
    assert main(["audit", "verify"]) == 0
