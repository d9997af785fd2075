"""`clearance export` (signed when CLEARANCE_SIGNING_KEY names a key), `clearance export verify`, `clearance keygen`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config.settings import environment, load_database_url
from storage import preflight

# storage.signify is imported by the commands that sign or check: its `cryptography` is some 6 MB
# that `serve`, which imports this module only to register the arguments, never needs.


def register(commands: argparse._SubParsersAction, export: argparse.ArgumentParser) -> None:
    checks = export.add_subparsers(dest="export_command", required=False)
    verify = checks.add_parser("verify", help="check an export's signature, every file and its audit chain")
    verify.add_argument("folder", type=Path, help="the export's folder")
    verify.add_argument("--key", type=Path, required=True, help="the public key (clearance.pub)")
    keygen = commands.add_parser("keygen", help="make a signing key pair (clearance.sec, clearance.pub)")
    keygen.add_argument("--out", type=Path, required=True, help="folder to write the two key files into")


def run_export(args: argparse.Namespace) -> int:
    if getattr(args, "export_command", None) == "verify":
        return _verify(args.folder, args.key)
    if args.out is None:
        print("clearance export needs --out DIR (or: clearance export verify DIR --key clearance.pub)", file=sys.stderr)
        return 2
    return _export(args.out)


def _export(out: Path) -> int:
    from storage.export import FolderTaken, export_record
    from storage.signify import KeyProblem, read_secret

    key_path = environment().get("CLEARANCE_SIGNING_KEY", "").strip()
    try:
        key = read_secret(Path(key_path)) if key_path else None
    except KeyProblem as exc:
        print(f"{exc}. Set CLEARANCE_SIGNING_KEY to a key made by `clearance keygen`, or unset it.", file=sys.stderr)
        return 2
    database_url = load_database_url()
    preflight.migrated(database_url)  # before anything is written: no empty "complete record"
    try:
        counts = export_record(database_url, out, key)
    except FolderTaken as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be written, a file in the way
        print(f"Clearance cannot write the record to {out}: {exc.strerror or type(exc).__name__}.", file=sys.stderr)
        return 2
    for table, n in counts.items():
        print(f"{table}: {n} rows")
    print(
        f"Written to {out}/ (one CSV per table, plus manifest.json with row counts, SHA-256 checksums"
        " and the audit chain's head)."
    )
    if key is None:
        print("Unsigned: set CLEARANCE_SIGNING_KEY to a key made by `clearance keygen` to sign exports (SHA256.sig).")
    else:
        print(
            f"Signed: SHA256 and SHA256.sig; check with `signify-openbsd -C -p clearance.pub -x SHA256.sig` in {out}/."
        )
    return 0


def _verify(folder: Path, key_path: Path) -> int:
    from storage.export_check import check_export
    from storage.signify import KeyProblem, read_public

    try:
        key = read_public(key_path)
    except KeyProblem as exc:
        print(exc, file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"{folder} is not a folder (give the folder `clearance export --out` wrote)", file=sys.stderr)
        return 2
    ok, line = check_export(folder, key)
    print(line)
    return 0 if ok else 1


def run_keygen(args: argparse.Namespace) -> int:
    from storage.signify import keygen

    out: Path = args.out
    taken = [out / name for name in ("clearance.sec", "clearance.pub") if (out / name).exists()]
    if taken:
        print(f"{taken[0]} already exists; a key is never overwritten (choose another folder)", file=sys.stderr)
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        secret, public = keygen(out)
    except OSError as exc:
        print(f"Clearance cannot write keys to {out}: {exc.strerror or type(exc).__name__}.", file=sys.stderr)
        return 2
    print(
        f"Wrote {secret} (secret: keep it private; CLEARANCE_SIGNING_KEY={secret}) and {public} (give it to auditors)."
    )
    return 0
