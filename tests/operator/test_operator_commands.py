"""The operator's commands when DATABASE_URL is wrong: one message saying what to fix, exit 2,
no traceback, and the commands that only read create nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from storage.db import migrate
from tests.conftest import PG_URL, throwaway_postgres
from tests.operator.cli import files, run
from tests.serving import free_port

READERS = [["outbox"], ["export", "--out", "record"], ["remind", "--dry-run"]]
WRITERS = [["migrate"], ["serve", "--port", "0"]]
needs_postgres = pytest.mark.skipif(not PG_URL, reason="set CLEARANCE_TEST_POSTGRES_URL")


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_reading_commands_on_a_missing_sqlite_database_stop_and_create_nothing(operator, monkeypatch, capsys, args):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///clearance.db")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"No Clearance database at {operator / 'clearance.db'}; run `clearance migrate` or check DATABASE_URL" in err
    assert files(operator) == ["clearance.toml"]  # no empty database, no empty export


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_reading_commands_on_an_unmigrated_sqlite_file_stop_and_change_nothing(operator, monkeypatch, capsys, args):
    path = operator / "other.db"
    with sqlite3.connect(path) as conn:  # some other program's database, or an empty file
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    before = path.read_bytes()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(args) == 2
    assert f"No Clearance database at {path}" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert files(operator) == ["clearance.toml", "other.db"]


def test_reading_commands_on_an_older_schema_say_to_migrate(operator, monkeypatch, capsys):
    url = f"sqlite:///{operator / 'clearance.db'}"
    migrate(url, "0003")
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["outbox"]) == 2
    assert "has an older schema (revision 0003); run `clearance migrate`" in capsys.readouterr().err
    assert main(["migrate"]) == 0
    assert main(["outbox"]) == 0


@pytest.mark.parametrize("args", WRITERS + READERS, ids=lambda a: a[0])
def test_a_missing_folder_is_named_with_the_fix(operator, monkeypatch, capsys, args):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{operator / 'no-such-folder' / 'clearance.db'}")
    assert main(args) == 2
    err = capsys.readouterr().err
    if args[0] in ("migrate", "serve"):
        assert f"the folder {operator / 'no-such-folder'} does not exist. Create the folder" in err
    else:
        assert "No Clearance database at" in err
    assert files(operator) == ["clearance.toml"]


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_an_unwritable_folder_is_named_with_the_fix(operator, monkeypatch, capsys, args):
    locked = operator / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes through permission bits; /proc refuses even root
        locked = Path("/proc")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{locked / 'clearance.db'}")
    assert main(args) == 2
    assert f"Clearance cannot write in the folder {locked}" in capsys.readouterr().err


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_a_file_that_is_not_a_database_is_reported_without_a_traceback(operator, monkeypatch, args):
    (operator / "clearance.db").write_bytes(b"these are not the tables you are looking for" * 100)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///clearance.db")
    result = run(args)  # serve: what its migration (a child process) met, told the same way
    assert result.returncode == 2, result.stderr
    assert f"Clearance cannot use the database at {operator / 'clearance.db'}: " in result.stderr
    assert "Check DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", WRITERS + READERS, ids=lambda a: a[0])
def test_an_unreachable_postgresql_is_named_with_the_fix(operator, monkeypatch, args):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://clearance:hunter2@127.0.0.1:{free_port()}/clearance")
    result = run(args)
    assert result.returncode == 2, result.stderr
    assert "Clearance cannot connect to PostgreSQL at postgresql://clearance:***@127.0.0.1:" in result.stderr
    assert "that PostgreSQL is running" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    assert files(operator) == ["clearance.toml"]


@needs_postgres
@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_reading_commands_on_an_unmigrated_postgresql_database_stop_and_create_nothing(
    operator, monkeypatch, capsys, args
):
    with throwaway_postgres("clearance_empty") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert main(args) == 2
        assert f"No Clearance database at {make_url(url).render_as_string()}" in capsys.readouterr().err
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
        assert files(operator) == ["clearance.toml"]


@needs_postgres
def test_a_missing_postgresql_database_says_how_to_create_it(operator, monkeypatch, capsys):
    url = make_url(PG_URL).set(drivername="postgresql", database="clearance_no_such_database")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(["migrate"]) == 2
    assert "Create the database (createdb clearance_no_such_database)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clearance:hunter2@[bad",  # the driver quotes the URL in its own message
        "postgresql://clearance@127.0.0.1:{port}/clearance?password=hunter2",  # libpq's query form
    ],
)
def test_a_password_in_database_url_is_never_printed(operator, monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url.format(port=free_port()))
    result = run(["migrate"])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr, result.stderr


def test_an_export_folder_that_cannot_be_written_is_named_without_a_traceback(operator, monkeypatch, capsys):
    url = f"sqlite:///{operator / 'clearance.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    (operator / "record").write_text("a file where the folder should be")
    assert main(["export", "--out", "record"]) == 2
    assert "Clearance cannot write the record to record" in capsys.readouterr().err


def test_a_port_out_of_range_is_refused_before_anything_starts(operator, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "99999"])
    assert stopped.value.code == 2 and "invalid port value" in capsys.readouterr().err
