"""`clearance backup --out FILE`: a consistent copy of a live SQLite database (docs/operating.md).

SQLite's online backup API (sqlite3's `Connection.backup`) copies every page as of one moment,
the pages still in the write-ahead log included, while `clearance serve` goes on writing. Copying
the .db file of a running bot is not a backup: the latest commits may be in the -wal file only, and
a file copied in the middle of a checkpoint is torn. PostgreSQL has pg_dump for this.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config.settings import load_database_url
from storage import preflight
from storage.db import urls

POSTGRES = (
    "clearance backup copies SQLite databases only; DATABASE_URL is PostgreSQL: use pg_dump "
    '(e.g. pg_dump --format=custom --file clearance.dump "$DATABASE_URL"; see docs/operating.md).'
)


def register(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="copy the live SQLite database to a new file (PostgreSQL: pg_dump)")
    backup.add_argument("--out", type=Path, required=True, help="the file to write; it must not exist yet")


def run(args: argparse.Namespace) -> int:
    database_url = load_database_url()
    url = make_url(urls(database_url)[1])
    if url.get_backend_name() != "sqlite":
        print(POSTGRES, file=sys.stderr)
        return 2
    preflight.migrated(database_url)  # a Clearance database is there; creates nothing
    source = Path(url.database or "").expanduser().resolve()
    out: Path = args.out.expanduser().absolute()
    problem = _cannot_write(out, source)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    # Written under a temporary name, renamed when whole: a FILE that exists is always a complete backup.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        revision = _copy(source, partial)
        try:
            os.link(partial, out)  # unlike a rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            print(f"{args.out} appeared while the backup was written; it was left as it is.", file=sys.stderr)
            return 2
    finally:
        partial.unlink(missing_ok=True)
    print(f"Backed up {source} to {out} ({out.stat().st_size} bytes, schema revision {revision}).")
    return 0


def _cannot_write(out: Path, source: Path) -> str | None:
    if out.exists() or out.is_symlink():
        return f"{out} already exists; clearance backup never overwrites a file. Name a new file with --out."
    if not out.parent.is_dir():
        return f"The folder {out.parent} does not exist; create it or name a file in an existing folder with --out."
    if not os.access(out.parent, os.W_OK):
        return f"Clearance cannot write in the folder {out.parent}; name a file in a writable folder with --out."
    if out.resolve() == source:
        return f"{out} is the database itself; name a new file with --out."
    return None


def _copy(source: Path, target: Path) -> str:
    """Copy every page of `source` into `target` as of one moment; check the copy; its schema revision."""
    # mode=ro: the backup only reads the live database (WAL lets it read while serve writes).
    with (
        closing(sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)  # all pages in one step: one consistent snapshot
        [(verdict,)] = copy.execute("PRAGMA quick_check").fetchall()
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"the copy failed SQLite's check: {verdict}")
        [(revision,)] = copy.execute("SELECT version_num FROM alembic_version").fetchall()
    with open(target, "rb") as written:
        os.fsync(written.fileno())  # on disk before it gets its name
    return str(revision)
