"""Alembic migrations are the only source of the schema: they must match the models exactly."""

from __future__ import annotations

from alembic import command

from storage.db import alembic_config, migrate


def test_models_and_migrations_agree(database_url):
    # database_url is already migrated to head; autogenerate must find nothing left to do.
    command.check(alembic_config(database_url))


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "base")
    command.upgrade(alembic_config(url), "head")
    command.check(alembic_config(url))


def test_tools_registered_before_the_lookalike_index_are_found_by_it(tmp_path):
    """After 0008, migrating fills tool_lookalikes for the tools already there (storage/lookalike_index.py)."""
    import asyncio

    from sqlalchemy import create_engine, text

    from storage.db import create_engine as create_async_engine
    from storage.db import session_factory
    from storage.uow import uow_factory
    from workflows.tool_services import find_tool

    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0007")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tools (id, key, name, status, created_at, version) "
                "VALUES (1, 'stingray', 'Stingray', 'unknown', '2026-01-01 00:00:00', 0)"
            )
        )
        connection.execute(text("INSERT INTO tool_aliases (alias, tool_id) VALUES ('graykey', 1)"))
    engine.dispose()
    migrate(url)  # the schema, then the index filled for the tools already there

    async def look_up(names: list[str]):
        db = create_async_engine(url)
        try:
            async with uow_factory(session_factory(db), lambda: None)() as uow:
                return [await find_tool(uow, name) for name in names]
        finally:
            await db.dispose()

    found = asyncio.run(look_up(["Sting Ray", "Stingrаy", "GrayKеy", "Cellebrite"]))  # Cyrillic а, е
    assert [t.key if t else None for t in found] == ["stingray", "stingray", "stingray", None]
