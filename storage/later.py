"""Child rows written at the end of their group-commit batch, with the batch's others.

Some rows a change writes are read again only by their own repository: a new tool's aliases and
look-alike forms (SQLite: on PostgreSQL a new tool and its names are one statement already,
storage/tool_insert.py), a request's decisions. In a batch of several changes they are assumed new
(storage/pending.py, `lazy`) and the whole batch's rows of a table are one INSERT at its end, not
one per click. Their repository asks `write_first` before each read of those tables, so no read
misses a row still pending: they are written first whenever one of them could change what the
read finds. A row that was stored after all (another process wrote the same name first) fails the
assumption, and the batch runs again writing each row at once, as outside a batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from storage.pending import may_assume_new_rows, pending

Row = dict[str, Any]


def later(session: AsyncSession, table: Table, key: tuple[str, ...], rows: Iterable[Row]) -> bool:
    """Queue `rows` (unique by `key`) to be written with the batch's others; False (nothing queued)
    where they must be written now (not in a batch of several, or running again after a failed
    assumption). A row whose key this batch queued already keeps the first one: first come,
    first served."""
    if not may_assume_new_rows(session):
        return False
    pending_rows = pending(session)
    for row in rows:
        pending_rows.add_assumed(table, row, key, lazy=True)
    return True


def queued(session: AsyncSession, tables: Sequence[Table]) -> list[Row]:
    """The rows of `tables` this batch has queued and not yet written."""
    rows = pending(session)
    return [row for table in tables for row in rows.lazy_rows(table)]


async def write_first(
    session: AsyncSession, tables: Sequence[Table], affects: Callable[[Row], bool] | None = None
) -> None:
    """Write the queued rows (the batch's other lazy rows with them) if any row of `tables`
    `affects` the read about to run (any at all, without `affects`)."""
    rows = queued(session, tables)
    if rows and (affects is None or any(affects(row) for row in rows)):
        await session.run_sync(functools.partial(pending(session).write_assumed, lazy=True))
