"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_once(session: AsyncSession, table, **values) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True if this call inserted the row.

    Both SQLite and PostgreSQL support it, and unlike catching IntegrityError it does not
    abort a PostgreSQL transaction, so the caller can go on.
    """
    dialect = sqlite if session.bind.dialect.name == "sqlite" else postgresql
    key = next(iter(table.__table__.primary_key.columns))
    # RETURNING, not rowcount: the ORM-enabled insert path reports rowcount -1 on psycopg.
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)
    return (await session.execute(statement)).first() is not None
