"""Checks run before a command touches the database, so an operator is told what to fix.

Without them a wrong `DATABASE_URL` shows up as a driver traceback, and SQLite quietly creates
an empty database wherever the URL points (an "export" of nothing that looks complete).
`writable()` comes before `serve` and `migrate`, which may create the database; `migrated()`
before the commands that only read it, and it creates nothing.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, make_url

from storage.db import alembic_config, urls

if TYPE_CHECKING:  # both imported where used: `clearance serve` keeps neither loaded (some 20 MB)
    import psycopg
    from alembic.script import ScriptDirectory

CONNECT_TIMEOUT = 5  # seconds; an unreachable host should not hang a command for minutes


# A password in a URL (user:password@) or in its query (?password=…, libpq's sslpassword).
_SECRETS = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@|((?:ssl)?password=)[^&\s\"']*", re.IGNORECASE)


def hide_secrets(text: str) -> str:
    """`text` with every password in a database URL in it replaced by ***."""
    return _SECRETS.sub(lambda m: f"{m.group(1)}:***@" if m.group(1) is not None else f"{m.group(2)}***", text)


class DatabaseProblem(Exception):
    """The database named by DATABASE_URL cannot be used; the message says what to do (never with a
    password, whatever the driver put in its own message)."""

    def __init__(self, message: str) -> None:
        super().__init__(hide_secrets(message))


def where(raw_url: str) -> str:
    """The database as an operator recognises it, never with a password."""
    url = make_url(urls(raw_url)[1])
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        return "an in-memory SQLite database" if path is None else str(path)
    return hide_secrets(url.set(drivername="postgresql").render_as_string(hide_password=True))


IN_MEMORY = (
    "DATABASE_URL={url} is an in-memory SQLite database: it starts empty for every command and is gone when "
    "the process ends, so nothing would be kept. Name a file (e.g. sqlite:///clearance.db) or a PostgreSQL database."
)


def on_disk(raw_url: str) -> None:
    """Refuse an in-memory SQLite URL (sqlite://, sqlite:///:memory:): every command would see its own
    empty database, and what `serve` stored would vanish with the process."""
    url = make_url(urls(raw_url)[1])
    if url.get_backend_name() == "sqlite" and _sqlite_path(url) is None:
        raise DatabaseProblem(IN_MEMORY.format(url=raw_url.strip()))


def writable(raw_url: str) -> None:
    """The database can be created or written: the SQLite folder exists and is writable, or PostgreSQL answers."""
    on_disk(raw_url)
    url = make_url(urls(raw_url)[1])
    if url.get_backend_name() != "sqlite":
        _pg_connect(url).close()
        return
    path = _sqlite_path(url)
    assert path is not None  # on_disk
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseProblem(
            f"DATABASE_URL points at {path}, but the folder {folder} does not exist. "
            "Create the folder, or set DATABASE_URL to a file in an existing one (e.g. sqlite:///clearance.db)."
        )
    if path.is_dir():
        raise DatabaseProblem(f"DATABASE_URL points at {path}, which is a folder; name a file inside it instead.")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseProblem(
            f"The SQLite database {path} is read-only for this user. "
            "Give this user read and write access to it, or point DATABASE_URL at another file."
        )
    try:  # os.access is not enough: read-only mounts, ACLs, and root on special file systems
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise DatabaseProblem(
            f"Clearance cannot write in the folder {folder} (SQLite keeps its journal next to {path.name}). "
            "Give this user write access to the folder, or point DATABASE_URL at a file in a writable one."
        ) from None


def migrated(raw_url: str) -> None:
    """A Clearance database is there, at the current schema; checked without creating anything."""
    on_disk(raw_url)
    found = revision(raw_url)
    if found is None:
        raise DatabaseProblem(
            f"No Clearance database at {where(raw_url)}; run `clearance migrate` or check DATABASE_URL."
        )
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(raw_url))
    if found in script.get_heads():
        return
    if not _known(script, found):
        raise DatabaseProblem(
            f"The database at {where(raw_url)} was migrated by a newer Clearance (revision {found}); "
            "use that version, or point DATABASE_URL at this version's database."
        )
    raise DatabaseProblem(
        f"The database at {where(raw_url)} has an older schema (revision {found}); run `clearance migrate`."
    )


def revision(raw_url: str) -> str | None:
    """The schema revision of the database at `raw_url` (None: no Clearance schema there), creating nothing."""
    url = make_url(urls(raw_url)[1])
    return _sqlite_revision(url) if url.get_backend_name() == "sqlite" else _pg_revision(url)


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises ResolutionError / CommandError for an id it does not have
        return False


def _sqlite_path(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve()


def _sqlite_revision(url: URL) -> str | None:
    path = _sqlite_path(url)
    if path is None or not path.is_file():
        return None
    try:
        # mode=ro: never create or change the file while looking.
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)) as conn:
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
            ).fetchone()
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone() if has_table else None
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(
            f"Clearance cannot use the database at {path}: it cannot be read as a SQLite database ({exc}). "
            "Check DATABASE_URL and the file's permissions."
        ) from None
    return row[0] if row else None


def _pg_revision(url: URL) -> str | None:
    with _pg_connect(url) as conn:
        found = conn.execute("SELECT to_regclass('alembic_version')").fetchone()
        if found is None or found[0] is None:
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _pg_connect(url: URL) -> psycopg.Connection:
    import psycopg

    plain = url.set(drivername="postgresql")
    target = hide_secrets(plain.render_as_string(hide_password=True))
    try:
        return psycopg.connect(
            plain.render_as_string(hide_password=False), connect_timeout=CONNECT_TIMEOUT, autocommit=True
        )
    except psycopg.Error as exc:
        reason = _first_line(exc)
        if "does not exist" in reason and "database" in reason:
            fix = f"Create the database (createdb {plain.database}) or correct its name in DATABASE_URL."
        elif "password" in reason or "authentication" in reason or "role" in reason:
            fix = "Check the user name and password in DATABASE_URL."
        else:
            fix = "Check DATABASE_URL, that PostgreSQL is running, and that this machine may connect to it."
        raise DatabaseProblem(f"Clearance cannot connect to PostgreSQL at {target}: {reason}. {fix}") from None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__).rstrip(".")
