"""A new tool's aliases and look-alike forms written at the end of its group-commit batch (SQLite).

On PostgreSQL a new tool and its names are one statement (storage/tool_insert.py). SQLite has no
INSERT inside WITH, so there every request about a new tool cost three INSERTs (tools, tool_aliases,
tool_lookalikes). In a batch of several changes the names are assumed new (storage/pending.py,
`lazy`) and the whole batch's are one INSERT per table at its end. Only SqlTools reads those two
tables, and it asks `write_first` before every read, so no read misses a name still pending: the
rows are written first whenever one of them could change what the read finds. A name that was
stored after all (another process filed it first) fails the assumption, and the batch runs again
writing each tool's names at once, first come, first served, as outside a batch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.pending import may_assume_new_rows, pending
from storage.sql import table_of
from storage.tables import ToolAliasRow, ToolLookalikeRow

_ALIASES, _FORMS = table_of(ToolAliasRow), table_of(ToolLookalikeRow)
_ALIAS_KEY, _FORM_KEY = ("alias",), ("form", "tool_id")

Row = dict[str, Any]


def later(session: AsyncSession, tool_id: int, aliases: Iterable[str], forms: Iterable[str]) -> bool:
    """Queue a new tool's names to be written with the batch's others; False (nothing queued) where
    they must be written now (not in a batch of several, or running again after a failed assumption)."""
    if session.get_bind().dialect.name != "sqlite" or not may_assume_new_rows(session):
        return False
    rows = pending(session)
    for alias in sorted(aliases):  # a name already queued by this batch stays its first tool's
        rows.add_assumed(_ALIASES, {"alias": alias, "tool_id": tool_id}, _ALIAS_KEY, lazy=True)
    for form in sorted(forms):
        rows.add_assumed(_FORMS, {"form": form, "tool_id": tool_id}, _FORM_KEY, lazy=True)
    return True


def queued(session: AsyncSession) -> list[Row]:
    """The names this batch has queued and not yet written."""
    rows = pending(session)
    return [*rows.lazy_rows(_ALIASES), *rows.lazy_rows(_FORMS)]


async def write_first(session: AsyncSession, affects: Callable[[Row], bool] | None = None) -> None:
    """Write the queued names (and the batch's other lazy rows) if any of them `affects` the read
    about to run (any at all, without `affects`)."""
    names = queued(session)
    if names and (affects is None or any(affects(row) for row in names)):
        await session.run_sync(functools.partial(pending(session).write_assumed, lazy=True))


def of_tools(names: list[Row]) -> set[int]:
    """The tools the queued `names` belong to."""
    return {row["tool_id"] for row in names}
