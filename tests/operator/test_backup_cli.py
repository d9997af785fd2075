"""`clearance backup --out FILE`'s refusals: one line, exit 2, nothing overwritten or left behind."""

from __future__ import annotations

import pytest

from bot.cli import main
from storage.db import migrate
from tests.operator.cli import files


@pytest.fixture
def database(operator, monkeypatch):
    path = operator / "clearance.db"
    migrate(f"sqlite:///{path}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


def test_a_backup_is_a_new_file_and_says_what_it_wrote(database, capsys):
    assert main(["backup", "--out", "first.backup"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Backed up {database} to {database.parent / 'first.backup'} (") and "schema revision" in out
    assert [f for f in files(database.parent) if not f.startswith("clearance.db-")] == [
        "clearance.db",
        "clearance.toml",
        "first.backup",
    ]


def test_an_existing_file_is_never_overwritten(database, capsys):
    existing = database.parent / "kept.backup"
    existing.write_text("an earlier backup")
    assert main(["backup", "--out", str(existing)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{existing} already exists; clearance backup never overwrites a file. Name a new file with --out."
    ]
    assert existing.read_text() == "an earlier backup"
    assert [f for f in files(database.parent) if not f.startswith("clearance.db-")] == [
        "clearance.db",
        "clearance.toml",
        "kept.backup",
    ]


def test_a_missing_folder_is_named(database, capsys):
    assert main(["backup", "--out", "nowhere/x.backup"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"The folder {database.parent / 'nowhere'} does not exist; "
        "create it or name a file in an existing folder with --out."
    ]


def test_a_postgresql_url_is_pointed_at_pg_dump_without_connecting(operator, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://clearance:secret@127.0.0.1:9/clearance")
    assert main(["backup", "--out", "x.backup"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "pg_dump" in line and "secret" not in line
    assert files(operator) == ["clearance.toml"]


def test_with_no_database_it_says_so_and_creates_nothing(operator, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{operator / 'clearance.db'}")
    assert main(["backup", "--out", "x.backup"]) == 2
    assert "No Clearance database at" in capsys.readouterr().err
    assert files(operator) == ["clearance.toml"]
