"""Checking an export (`clearance export verify DIR --key clearance.pub`) without its database:
the signature, every file against the signed checksums, and the audit chain inside audit_log.csv."""

from __future__ import annotations

import bisect
import csv
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson

from storage.chain_verify import Anchor, first_break
from storage.signify import PublicKey, open_signed, parse_checksums
from workflows.spreadsheet import FORMULA_STARTS

UNLISTED = {"SHA256", "SHA256.sig"}


def check_export(folder: Path, key: PublicKey) -> tuple[bool, str]:
    """(intact?, one line saying so or naming the first problem)."""
    try:
        signed = (folder / "SHA256.sig").read_bytes()
    except FileNotFoundError:
        return False, f"{folder}/SHA256.sig is missing: this export is not signed"
    message = open_signed(key, signed)
    if isinstance(message, str):
        return False, message
    listed = parse_checksums(message)
    if isinstance(listed, str):
        return False, f"SHA256.sig: {listed}"
    present = {p.name for p in folder.iterdir() if p.is_file()} - UNLISTED
    for name in sorted(present - set(listed)):
        return False, f"{name}: not in the signed checksum list (added after signing)"
    for name, digest in listed.items():
        path = folder / Path(name).name
        if not path.is_file():
            return False, f"{name}: missing"
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return False, f"{name}: does not match its signed checksum (changed after signing)"
    return check_chain(folder)


def _manifest_chain(folder: Path) -> dict | str:
    try:
        chain = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["audit_chain"]
        int(chain["head_seq"]), str(chain["head_hash"]), int(chain["start_seq"]), str(chain["start_hash"])
    except FileNotFoundError:
        return f"{folder}/manifest.json is missing: not a Clearance export"
    except (ValueError, KeyError, TypeError):
        return f"{folder}/manifest.json has no audit_chain head (an export made before the audit chain?)"
    return chain  # type: ignore[no-any-return]


def check_chain(folder: Path) -> tuple[bool, str]:
    """Re-verify the chain in audit_log.csv from the manifest's start to its head."""
    chain = _manifest_chain(folder)
    if isinstance(chain, str):
        return False, chain
    csv.field_size_limit(sys.maxsize)
    with (folder / "audit_log.csv").open(encoding="utf-8", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: int(r["seq"]))
    # Named as `clearance audit verify` names it (edited, missing, inserted, out of order, forged start).
    start_seq, start_hash = int(chain["start_seq"]), str(chain["start_hash"])
    broken, seq, last = first_break(_CsvRows(rows), start_seq, start_hash)
    edited = next((int(r["seq"]) for r in rows if not _columns_agree_with_bytes(r)), None)
    if edited is not None and (broken is None or edited < broken[0]):
        broken = (edited, "edited")
    if broken is not None:
        return False, f"audit_log.csv: entry {broken[0]}: {broken[1]}"
    if (seq, last) != (int(chain["head_seq"]), chain["head_hash"]):
        return False, f"audit_log.csv: cut off after entry {seq}; the manifest's head says {chain['head_seq']}"
    return True, f"intact: signature, every file, and the audit chain (entries {int(chain['start_seq']) + 1}–{seq})"


class _CsvRows:
    """audit_log.csv's rows as chain_verify walks them: (seq, canonical bytes, hash) in seq order."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._rows = [(int(r["seq"]), r["canonical"].encode(), r["hash"]) for r in rows]
        self._seqs = [r[0] for r in self._rows]

    def rows_from(self, seq: int, limit: int) -> list[tuple[int, bytes, str]]:
        i = bisect.bisect_left(self._seqs, seq)
        return self._rows[i : i + limit]


def _columns_agree_with_bytes(row: dict[str, str]) -> bool:
    """The row's columns say what its canonical text says (an unreadable text is the walk's to name)."""
    try:
        claim = orjson.loads(row["canonical"].encode())
        return _columns_agree(row, claim["entry"]) and int(claim["seq"]) == int(row["seq"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return True


def _columns_agree(row: dict[str, str], entry: dict) -> bool:
    for name, value in entry.items():
        cell = row.get(name, "")
        if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
            cell = cell[1:]
        if name == "at":
            if datetime.fromisoformat(cell).astimezone(UTC) != datetime.fromisoformat(value.replace("Z", "+00:00")):
                return False
        elif cell != ("" if value is None else value):
            return False
    return True


def export_anchor(folder: Path) -> Anchor | str:
    """The chain head an export recorded, as an anchor for `clearance audit verify --anchor`."""
    chain = _manifest_chain(folder)
    if isinstance(chain, str):
        return chain
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        at = datetime.fromisoformat(manifest["exported_at"]).astimezone(UTC)
    except (ValueError, KeyError):
        return f"{folder}/manifest.json has no exported_at time"
    return Anchor(int(chain["head_seq"]), str(chain["head_hash"]), at, f"export {folder}")
