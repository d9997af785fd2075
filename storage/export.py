"""The complete record for an auditor: every business table as CSV, with a manifest of checksums."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, select
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables)
from storage.db import urls

# Delivery plumbing, not part of the record.
TECHNICAL = {"outbox", "slack_messages", "handled_events", "alembic_version"}


def export_record(database_url: str, out: Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    engine = create_engine(urls(database_url)[1])
    counts: dict[str, int] = {}
    files: dict[str, str] = {}
    try:
        present = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
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
        "rows": counts,
        "sha256": files,
        "note": "Times are UTC. audit_log lists every change of state: who, what, when, from, to and why.",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return counts


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
