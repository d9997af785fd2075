"""The complete record for an auditor: every business table as CSV, with a manifest of checksums."""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables)
from storage.chain import start_of
from storage.db import urls
from storage.signify import SecretKey, checksum_list, sign
from workflows.spreadsheet import neutralise

# Delivery plumbing, not part of the record.
TECHNICAL = {"outbox", "slack_messages", "handled_events", "alembic_version"}


class FolderTaken(Exception):
    """The export's folder exists and is not empty: nothing is written over a record."""


def export_record(database_url: str, out: Path, key: SecretKey | None = None) -> dict[str, int]:
    """Write the record into a temporary folder next to `out`, renamed to `out` when complete:
    an export is whole or absent. `key`: also SHA256 (signify's checksum list) and SHA256.sig."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "a file is in the way, not a folder")
    if out.exists() and any(out.iterdir()):
        raise FolderTaken(f"{out} already exists and is not empty; choose a new folder (an export never overwrites)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        counts = _write_record(database_url, partial, key)
        if out.exists():
            out.rmdir()  # empty: replaced by the finished export
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return counts


def _write_record(database_url: str, out: Path, key: SecretKey | None) -> dict[str, int]:
    """Write every business table as it stood at one moment: all reads are in one transaction.

    Without that, a decision recorded while the export runs could appear in `audit_log` but
    not in `decisions`. The caller checks first that the database exists (storage.preflight).
    """
    engine = _snapshot_engine(database_url)
    counts: dict[str, int] = {}
    files: dict[str, str] = {}
    try:
        with engine.begin() as conn:
            present = set(inspect(conn).get_table_names())
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            start_seq, start_hash = start_of(conn)
            head = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
            head_seq, head_hash = (int(head[0]), str(head[1])) if head else (start_seq, start_hash)
            for table in SQLModel.metadata.sorted_tables:
                if table.name in TECHNICAL or table.name not in present:
                    continue
                path = out / f"{table.name}.csv"
                order = list(table.primary_key.columns)
                with path.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle)
                    writer.writerow([c.name for c in table.columns])
                    n = 0
                    for row in conn.execute(select(table).order_by(*order)):
                        writer.writerow([_cell(v) for v in row])
                        n += 1
                counts[table.name] = n
                files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        engine.dispose()
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(),
        "schema_revision": revision,
        "snapshot": "all tables read in one transaction (REPEATABLE READ on PostgreSQL)",
        "rows": counts,
        "sha256": files,
        "audit_chain": {
            "head_seq": head_seq,
            "head_hash": head_hash,
            "start_seq": start_seq,
            "start_hash": start_hash,
            "how": "audit_log.csv: each entry's canonical text (RFC 8785 JSON) names the hash of the one before "
            "(after); hash is its SHA-256. See docs/audit.md.",
        },
        "signed": key is not None,
        "note": "Times are UTC. audit_log lists every change of state: who, what, when, from, to and why. "
        "Text that begins with = + - @ or a tab is written with a ' before it, so that a spreadsheet "
        "shows it rather than running it as a formula: the value is what follows that '.",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if key is not None:
        listed = checksum_list(out, [*files, "manifest.json"])
        (out / "SHA256").write_bytes(listed)
        (out / "SHA256.sig").write_bytes(sign(key, listed))
    return counts


def _snapshot_engine(database_url: str) -> Engine:
    sync_url = urls(database_url)[1]
    if not sync_url.startswith("sqlite"):
        # REPEATABLE READ: every statement sees the snapshot taken at the first one.
        return create_engine(sync_url, isolation_level="REPEATABLE READ", hide_parameters=True)
    engine = create_engine(sync_url, hide_parameters=True)

    # Python's sqlite3 does not BEGIN before a SELECT, so each would see a newer state.
    # SQLAlchemy's recipe: let SQLAlchemy emit BEGIN; a SQLite read transaction is a snapshot.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


# Formula-like text gets a leading ' (workflows/spreadsheet.py), and the manifest says so.


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return neutralise(value)
    return str(value)
