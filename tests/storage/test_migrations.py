"""Alembic migrations are the only source of the schema: they must match the models exactly."""

from __future__ import annotations

from alembic import command

from storage.db import alembic_config


def test_models_and_migrations_agree(database_url):
    # database_url is already migrated to head; autogenerate must find nothing left to do.
    command.check(alembic_config(database_url))


def test_migrations_go_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "base")
    command.upgrade(alembic_config(url), "head")
    command.check(alembic_config(url))
