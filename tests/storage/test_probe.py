"""DatabaseProbe says why a database cannot be used, quickly, and never creates one."""

from __future__ import annotations

import time

from storage.probe import DatabaseProbe


async def test_a_usable_database_has_no_problem(database_url):
    assert await DatabaseProbe(database_url).problem() is None


async def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    path = tmp_path / "gone.db"
    assert await DatabaseProbe(f"sqlite:///{path}").problem() == "unreachable: the SQLite file is missing"
    assert not path.exists()


async def test_an_unreachable_postgresql_is_reported_at_once():
    started = time.monotonic()
    problem = await DatabaseProbe("postgresql://postgres@127.0.0.1:9/none", timeout=1).problem()
    assert problem == "unreachable: OperationalError" and time.monotonic() - started < 1.5
