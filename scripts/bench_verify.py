"""`clearance audit verify` over 1,000,000 chained entries in SQLite: how long it takes.

    python scripts/bench_verify.py [--entries N] [--keep PATH]

Seeds a migrated SQLite file with N chained entries (storage/chain.py, bulk-inserted with the
raw driver), then times storage.chain_verify.verify: wall time and this process's CPU time.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.chain import GENESIS, seal
from storage.chain_verify import verify
from storage.db import migrate


def seed(path: Path, n: int) -> None:
    migrate(f"sqlite:///{path}")
    db = sqlite3.connect(path)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    head = (0, GENESIS)
    insert = (
        "INSERT INTO audit_log"
        " (subject, action, actor, at, from_state, to_state, reason, team_id, seq, canonical, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for first in range(0, n, 100_000):
        rows = [
            {
                "subject": f"REQ-{i % 5000:04d}",
                "action": "directive:acknowledged" if i % 3 else "approved:it_security",
                "actor": f"U0{i % 977:07d}",
                "at": start + timedelta(seconds=i),
                "from_state": "",
                "to_state": "acknowledged" if i % 3 else "approved",
                "reason": "" if i % 3 else "Reviewed the vendor's data handling; retention 30 days.",
                "team_id": "T0TEAM",
            }
            for i in range(first, min(n, first + 100_000))
        ]
        head = seal(rows, head)
        db.executemany(
            insert,
            [
                (
                    r["subject"],
                    r["action"],
                    r["actor"],
                    f"{r['at'].replace(tzinfo=None):%Y-%m-%d %H:%M:%S.%f}",
                    r["from_state"],
                    r["to_state"],
                    r["reason"],
                    r["team_id"],
                    r["seq"],
                    r["canonical"],
                    r["hash"],
                )
                for r in rows
            ],
        )
    db.commit()
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="seed this file (kept) instead of a temporary one")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="clearance-bench-verify-")
    path = args.keep or Path(folder) / "clearance.db"
    if not path.exists():
        began = time.perf_counter()
        seed(path, args.entries)
        print(
            f"seeded {args.entries:,} chained entries in {time.perf_counter() - began:.1f} s"
            f" ({path.stat().st_size / 1e6:.0f} MB)"
        )
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs")
    for run in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        verdict = verify(f"sqlite:///{path}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"run {run + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU (both threads) — {verdict.line[:60]}…")


if __name__ == "__main__":
    main()
