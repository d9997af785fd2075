"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zones: it stores naive UTC text (which sorts correctly), and this type
    puts the UTC zone back on the way out, so comparisons never mix naive and aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Clearance stores UTC-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        """One function per value bound, not TypeDecorator's wrapper calling `process_bind_param` and
        then SQLite's own DATETIME formatting: a submission binds a dozen of these (its request, tool,
        audit entry and outbox rows), and the two layers were some 2 % of its CPU. The text is what
        SQLite's DATETIME writes ('2026-12-07 16:51:36.000123', microseconds always), so stored
        values sort and compare as before."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given; Clearance stores UTC-aware datetimes only")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(TypeDecorator):
    """JSON kept as text: portable, and readable in an export or a psql session.

    orjson writes what `json.dumps(value, ensure_ascii=False, separators=(",", ":"))` wrote, key
    order kept, in a seventh of the time (a stored 2 KB card: 15 µs against 2 µs)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect) -> str | None:
        return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()

    def bind_processor(self, dialect):
        """orjson called directly, without TypeDecorator's wrapper, where the text column has no
        processing of its own (SQLite, asyncpg): the same text, one call less per value."""
        if self.impl_instance.dialect_impl(dialect).bind_processor(dialect) is not None:
            return super().bind_processor(dialect)
        dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS

        def process(value) -> str | None:
            return None if value is None else dumps(value, option=option).decode()

        return process

    def process_result_value(self, value: str | None, dialect):
        return None if value is None else orjson.loads(value)
