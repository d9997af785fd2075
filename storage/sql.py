"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Result, Row, Table, bindparam, exc, update
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
    statement = on_conflict_nothing(session.get_bind().dialect.name, table, returning=True)
    return (await session.execute(statement, values)).first() is not None


async def insert_all_once(session: AsyncSession, table, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING of several rows (those already there are left as they are)."""
    if rows:
        await session.execute(on_conflict_nothing(session.get_bind().dialect.name, table), rows)


def on_conflict_nothing(name: str, table, *, returning: bool = False):
    """INSERT … ON CONFLICT DO NOTHING into `table` for the dialect `name`, built once per shape."""
    statement = _INSERTS_ONCE.get((name, table, returning))
    if statement is None:
        dialect = sqlite if name == "sqlite" else postgresql
        core = table_of(table)  # Core, not the ORM's bulk-insert machinery: a third of the cost
        statement = dialect.insert(core).on_conflict_do_nothing()
        if returning:  # RETURNING, not rowcount: what was inserted, on every driver
            statement = statement.returning(next(iter(core.primary_key.columns)))
        _INSERTS_ONCE[name, table, returning] = statement
    return statement


# Statements built once and run with their values bound: SQLAlchemy then compiles each once, and
# never walks the values to find a cached compilation (building and walking cost more than SQLite).
_INSERTS_ONCE: dict[tuple[Any, ...], Any] = {}
_VERSIONED_UPDATES: dict[tuple[Any, ...], Any] = {}


async def save_versioned(
    session: AsyncSession, table, item, values: dict, *returning: Any, params: dict[str, Any] | None = None
) -> Row[Any] | None:
    """UPDATE … WHERE id = :id AND version = :version (the optimistic lock), bumping the version.

    No row updated means someone saved the same record since `item` was read: ConcurrencyConflict.
    `returning` expressions (built once by the caller: the statement is kept for them) are evaluated
    by the same UPDATE, `params` binding theirs; their row is returned.
    """
    shape = (table, tuple(values), returning)  # `returning`: expressions the caller built once
    statement = _VERSIONED_UPDATES.get(shape)
    if statement is None:
        core = table_of(table)  # Core, not the ORM's bulk-update machinery (nothing is kept in the session)
        statement = (
            update(core)
            .where(core.c.id == bindparam("_id"), core.c.version == bindparam("_version"))
            .values({**{name: bindparam(f"_set_{name}") for name in values}, "version": bindparam("_next_version")})
        )
        statement = _VERSIONED_UPDATES[shape] = statement.returning(*returning) if returning else statement
    bound = {f"_set_{name}": value for name, value in values.items()}
    bound.update(params or {}, _id=item.id, _version=item.version, _next_version=item.version + 1)
    if returning:
        found = (await session.execute(statement, bound)).first()
        updated = found is not None
    else:
        found, updated = None, rowcount(await session.execute(statement, bound)) == 1
    if not updated:
        raise ConcurrencyConflict(getattr(item, "ref", str(item.id)))
    item.version += 1
    return found
