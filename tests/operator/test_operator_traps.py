"""What an operator putting Clearance into service met on the way (issue 22): each trap, closed."""

from __future__ import annotations

import socket
import tomllib

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main
from storage.db import alembic_config, migrate
from tests.operator.cli import files, run
from tests.serving import ROOT


def head() -> str:
    [revision] = ScriptDirectory.from_config(alembic_config("sqlite:///x.db")).get_heads()
    return revision


# --- a port already in use (trap 2) and where serve listens by default (trap 3) -------------------


def test_a_port_in_use_is_one_message_and_exit_2_before_anything_says_it_is_serving(operator):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["serve", "--port", str(port)])
    assert result.returncode == 2, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [
        f"Clearance cannot listen on 127.0.0.1:{port}: the port is already in use (another `clearance serve`?). "
        "Stop what uses it, or choose another port with --port."
    ]
    assert files(operator) == ["clearance.toml"]  # stopped before the database was created


def test_serve_listens_on_this_machine_only_unless_told_otherwise(operator, monkeypatch):
    """127.0.0.1 by default (a reverse proxy in front); --host 0.0.0.0 where that is wanted."""
    bound: list[tuple[str, int]] = []

    def refuse_after_noting(host: str, port: int):
        from bot.http.listen import CannotListen

        bound.append((host, port))
        raise CannotListen("noted")

    monkeypatch.setattr("bot.http.listen.bind", refuse_after_noting)
    assert main(["serve", "--port", "3000"]) == 2
    assert main(["serve", "--port", "3000", "--host", "0.0.0.0"]) == 2
    assert bound == [("127.0.0.1", 3000), ("0.0.0.0", 3000)]


# --- an in-memory database, migrate's report (trap 6) ---------------------------------------------


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
@pytest.mark.parametrize("args", [["serve", "--port", "0"], ["migrate"], ["export", "--out", "record"]])
def test_an_in_memory_database_is_refused_with_one_message(operator, monkeypatch, capsys, url, args):
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"DATABASE_URL={url} is an in-memory SQLite database: it starts empty for every command and is gone when "
        "the process ends, so nothing would be kept. Name a file (e.g. sqlite:///clearance.db) or a PostgreSQL "
        "database."
    ]
    assert "no such table" not in err
    assert files(operator) == ["clearance.toml"]


def test_migrate_says_what_it_did(operator, monkeypatch, capsys):
    path = operator / "clearance.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == f"Created the schema at revision {head()} ({path}).\n"
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == f"The schema is up to date at revision {head()} ({path}).\n"


def test_migrate_names_the_revisions_it_upgraded_between(operator, monkeypatch, capsys):
    path = operator / "clearance.db"
    migrate(f"sqlite:///{path}", "0003")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == f"Upgraded the schema from revision 0003 to {head()} ({path}).\n"


# --- what ships in the repository (trap 7) --------------------------------------------------------


def test_an_operators_config_file_is_never_committed_by_accident():
    import subprocess

    for path in ("clearance.toml", "deploy/clearance.toml"):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
    shipped = subprocess.run(["git", "check-ignore", "-q", "clearance.example.toml"], cwd=ROOT, capture_output=True)
    assert shipped.returncode == 1  # the example itself stays tracked


def test_the_licence_is_in_the_repository_and_in_the_package_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()


def test_every_package_data_pattern_names_files_that_exist():
    """A pattern for a file that does not exist (storage/alembic.ini was one) hides what ships."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        if not (ROOT / package).is_dir():
            continue  # a package another change adds (pages/, demo/)
        for pattern in patterns:
            assert list((ROOT / package).glob(pattern)), f"{package}/{pattern} matches nothing"


def test_env_example_lists_every_setting_clearance_reads():
    import re

    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "bot" / "config" / "settings.py").read_text()))
    listed = set(re.findall(r"(?m)^([A-Z_]+)=", (ROOT / ".env.example").read_text()))
    assert "CLEARANCE_OUTBOX_LEASE" in read
    assert read <= listed, sorted(read - listed)
