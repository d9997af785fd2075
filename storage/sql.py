"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Result, Row, Table, exc, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from workflows.errors import ConcurrencyConflict

# What "the database cannot be reached or written" looks like from the driver: connection refused
# or dropped, a read-only or full SQLite file, a pool that gives no connection in time.
_UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.DisconnectionError, OSError)


class _Row(Protocol):
    id: int | None


def row_id(row: _Row) -> int:
    """The primary key of a row read from the database or flushed to it (only a new row has none)."""
    assert row.id is not None, "the row is not flushed yet"
    return row.id


def table_of(row_class: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (SQLModel sets `__table__` without declaring it)."""
    table: Table = row_class.__table__  # type: ignore[attr-defined]  # see the docstring
    return table


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched: its result is a CursorResult, though execute() is typed Result."""
    return cast(CursorResult[Any], result).rowcount


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _UNAVAILABLE)


async def insert_once(session: AsyncSession, table, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True if this call inserted the row.

    Both SQLite and PostgreSQL support it, and unlike catching IntegrityError it does not
    abort a PostgreSQL transaction, so the caller can go on.
    """
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    core = table_of(table)  # Core, not the ORM's bulk-insert machinery: a third of the cost
    key = next(iter(core.primary_key.columns))
    statement = dialect.insert(core).values(**values).on_conflict_do_nothing().returning(key)
    return (await session.execute(statement)).first() is not None


async def save_versioned(
    session: AsyncSession, table, item, values: dict, *returning: Any, params: dict[str, Any] | None = None
) -> Row[Any] | None:
    """UPDATE … WHERE id = :id AND version = :version (the optimistic lock), bumping the version.

    No row updated means someone saved the same record since `item` was read: ConcurrencyConflict.
    `returning` expressions are evaluated by the same UPDATE (`params` binds theirs); their row is
    returned.
    """
    core = table_of(table)  # Core, not the ORM's bulk-update machinery (nothing is kept in the session)
    statement = (
        update(core)
        .where(core.c.id == item.id, core.c.version == item.version)
        .values(**values, version=item.version + 1)
    )
    if returning:
        found = (await session.execute(statement.returning(*returning), params)).first()
        updated = found is not None
    else:
        found, updated = None, rowcount(await session.execute(statement)) == 1
    if not updated:
        raise ConcurrencyConflict(getattr(item, "ref", str(item.id)))
    item.version += 1
    return found
