"""The tampering the other tables leave out: a tail cut off after an export (caught by `verify
--anchor EXPORT_DIR`), and an export whose audit chain was changed by someone holding the signing
key itself (the signature and checksums are then good: the chain inside still names the break)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.cli import main
from storage.chain import append as append_entries
from storage.signify import checksum_list, read_secret, sign
from tests.storage.test_chain import entries, forged, tamper, verify_says


@pytest.fixture
def keys(tmp_path, capsys) -> Path:
    assert main(["keygen", "--out", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    return tmp_path / "keys"


@pytest.fixture
def exported(sync, database_url, keys, tmp_path, monkeypatch, capsys) -> Path:
    """50 chained entries, exported and signed."""
    with sync.begin() as conn:
        append_entries(conn, entries(50))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CLEARANCE_SIGNING_KEY", str(keys / "clearance.sec"))
    assert main(["export", "--out", str(tmp_path / "export")]) == 0
    capsys.readouterr()
    return tmp_path / "export"


@pytest.fixture
def sync(database_url):
    from sqlalchemy import create_engine

    from storage.db import urls

    engine = create_engine(urls(database_url)[1])
    yield engine
    engine.dispose()


def test_a_tail_cut_off_after_an_export_is_caught_by_its_anchor(exported, sync, database_url, monkeypatch, capsys):
    tamper(sync, "DELETE FROM audit_log WHERE seq > 41")
    code, line = verify_says(database_url, monkeypatch, capsys)
    assert code == 0 and line.startswith("intact: 41 entries")  # the database alone cannot tell
    at = datetime.fromisoformat(json.loads((exported / "manifest.json").read_text())["exported_at"])
    code, line = verify_says(database_url, monkeypatch, capsys, "--anchor", str(exported))
    assert (code, line) == (1, f"cut off after entry 41; the anchor of {at:%Y-%m-%d %H:%M} UTC says 50")


def resign(folder: Path, keys: Path) -> None:
    """What the holder of the secret key could do: new checksums, signed with the right key."""
    listed = checksum_list(folder, sorted(p.name for p in folder.iterdir() if not p.name.startswith("SHA256")))
    (folder / "SHA256").write_bytes(listed)
    (folder / "SHA256.sig").write_bytes(sign(read_secret(keys / "clearance.sec"), listed))


def rewrite_audit_csv(folder: Path, change) -> None:
    path = folder / "audit_log.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    rows = change(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _edit(rows):
    rows[16]["reason"] = "nothing to see"
    return rows


def _swap(rows):
    """Entries 20 and 21 trade places (and numbers)."""
    rows[19], rows[20] = dict(rows[20], seq=rows[19]["seq"]), dict(rows[19], seq=rows[20]["seq"])
    return rows


def _as_csv(template: dict, entry: dict) -> dict:
    """A CSV row saying what a forged entry (tests/storage/test_chain.forged) says."""
    row = dict(template)
    for name in ("subject", "action", "actor", "from_state", "to_state", "reason", "team_id"):
        row[name] = "" if entry[name] is None else entry[name]
    return (
        row
        | {"at": entry["at"].isoformat(), "seq": str(entry["seq"]), "canonical": entry["canonical"]}
        | {"hash": entry["hash"]}
    )


def _insert(rows):
    """An entry that never happened after entry 18, chained to it; the later ones renumbered."""
    made = _as_csv(rows[18], forged(None, 19, rows[17]["hash"], "an entry that never happened"))
    later = [dict(r, seq=str(int(r["seq"]) + 1)) for r in rows[18:]]
    return [*rows[:18], made, *later]


def _forge_start(rows):
    rows[0] = _as_csv(rows[0], forged(None, 1, "ab" * 32, "the trail began later"))
    return rows


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("edit a field", _edit, "audit_log.csv: entry 17: edited"),
        ("swap two", _swap, "audit_log.csv: entry 20: out of order"),
        ("insert one", _insert, "audit_log.csv: entry 19: inserted"),
        ("forge the first entry", _forge_start, "audit_log.csv: entry 1: forged start"),
        ("delete an entry", lambda rows: rows[:17] + rows[18:], "audit_log.csv: entry 18: missing"),
        (
            "truncate the tail",
            lambda rows: rows[:41],
            "audit_log.csv: cut off after entry 41; the manifest's head says 50",
        ),
    ],
)
def test_an_export_re_signed_by_the_key_holder_still_names_the_break(exported, keys, capsys, kind, change, expected):
    rewrite_audit_csv(exported, change)
    resign(exported, keys)
    code = main(["export", "verify", str(exported), "--key", str(keys / "clearance.pub")])
    out = capsys.readouterr()
    assert (code, (out.out + out.err).strip()) == (1, expected)
