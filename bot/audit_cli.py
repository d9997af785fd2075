"""`clearance audit verify`: is the audit trail whole? One line either way (docs/audit.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import load_database_url
from storage import preflight


def register(commands: argparse._SubParsersAction) -> None:
    audit = commands.add_parser("audit", help="check the audit trail's hash chain")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="check every entry; exit 1 naming the first that breaks")
    verify.add_argument(
        "--anchor", type=Path, default=None, metavar="EXPORT_DIR", help="also check against that export's chain head"
    )


def run(args: argparse.Namespace) -> int:
    from storage.chain_verify import verify

    database_url = load_database_url()
    preflight.migrated(database_url)
    anchors = []
    if args.anchor is not None:
        from storage.export_check import export_anchor

        found = export_anchor(args.anchor)
        if isinstance(found, str):
            print(found, file=sys.stderr)
            return 2
        anchors.append(found)
    verdict = verify(database_url, anchors)
    print(verdict.line)
    return 0 if verdict.ok else 1
