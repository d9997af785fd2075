"""`clearance inventory` and `clearance report`: the public inventory and the annual report, from the record.

They only read (one transaction), and write their file whole or not at all: to a temporary file
beside it, renamed when complete. An existing file is kept unless --force.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.policy_file import load_policy
from bot.config.settings import config_path_from, environment, load_database_url
from storage import preflight

if TYPE_CHECKING:
    from workflows.policy import Policy
    from workflows.public_record import RecordSnapshot

# The record and the pages are imported by the two commands: every command imports this module to
# register them, `serve` too (the report's charts, pygal: some 2 MB it would keep for nothing) and
# `migrate`, which `serve` runs in a child process at each start (bot/cli.py).


def add_commands(commands) -> None:
    """Register both commands on the `clearance` parser's subcommands (bot/cli.py)."""
    inventory = commands.add_parser("inventory", help="list every tool as police boards publish it (CSV or JSON)")
    inventory.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json")
    inventory.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    inventory.add_argument("--force", action="store_true", help="replace --out if it exists")
    report = commands.add_parser("report", help="write the annual report as one HTML file (prints to A4 or Letter)")
    report.add_argument("--year", type=int, required=True, help="the calendar year, e.g. 2026")
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write, e.g. report.html")
    report.add_argument("--force", action="store_true", help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    if args.command == "inventory":
        return _inventory(args.format, args.out, args.force)
    return _report(args.year, args.out, args.force)


def _record() -> tuple[RecordSnapshot, Policy]:
    from storage.db import open_database
    from storage.public_record import SqlPublicRecord

    env = environment()
    database_url = load_database_url(env)
    policy = load_policy(config_path_from(env))
    preflight.migrated(database_url)  # reads only: no database, or an empty one, is said so and nothing created

    async def read() -> RecordSnapshot:
        database = open_database(database_url)
        try:
            return await SqlPublicRecord(database.read_sessions, lambda: datetime.now(UTC)).snapshot(with_changes=False)
        finally:
            await database.dispose()

    return asyncio.run(read()), policy


def _inventory(fmt: str, out: Path | None, force: bool) -> int:
    if out is not None and (problem := _refused(out, force)):
        print(problem, file=sys.stderr)
        return 2
    from pages.inventory import as_csv, as_json, inventory_rows

    snapshot, policy = _record()
    rows = inventory_rows(snapshot, policy)
    text = as_json(rows) if fmt == "json" else as_csv(rows)
    if out is None:
        sys.stdout.write(text)
        return 0
    if problem := _write(out, text):
        print(problem, file=sys.stderr)
        return 2
    print(f"{len(rows)} tools written to {out}.", file=sys.stderr)
    return 0


def _report(year: int, out: Path, force: bool) -> int:
    if not 1970 <= year <= 9999:
        print(f"--year {year} is not a calendar year like 2026.", file=sys.stderr)
        return 2
    if problem := _refused(out, force):
        print(problem, file=sys.stderr)
        return 2
    from pages.report import NoData, annual_report, report_html

    snapshot, policy = _record()
    try:
        report = annual_report(snapshot, policy, year)
    except NoData:
        print(f"No requests were made and no directives issued in {year}: there is nothing to report.", file=sys.stderr)
        return 2
    if problem := _write(out, report_html(report, datetime.now(UTC))):
        print(problem, file=sys.stderr)
        return 2
    print(f"The {year} report is written to {out} ({report.requests} requests, {len(report.directives)} directives).")
    return 0


def _refused(out: Path, force: bool) -> str | None:
    if out.is_dir():
        return f"{out} is a folder; give the file to write, e.g. --out {out / 'report.html'}."
    if out.exists() and not force:
        return f"{out} exists already; nothing was written. Choose another --out, or add --force to replace it."
    if not out.parent.is_dir():
        return f"The folder {out.parent} does not exist; nothing was written."
    return None


def _write(out: Path, text: str) -> str | None:
    """Write `text` to a temporary file beside `out`, then rename it: never a half-written file."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            os.replace(temp, out)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        return f"Clearance cannot write {out}: {exc.strerror or type(exc).__name__}; nothing was written."
    return None
