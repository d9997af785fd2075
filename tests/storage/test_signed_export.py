"""Signed exports: the chain head in the manifest, signify's SHA256 and SHA256.sig, checked by
`clearance export verify` and by the stock signify-openbsd; and every kind of bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from storage.signify import checksum_list
from storage.uow import uow_factory
from tests.storage.test_requests_storage import DRAFT, POLICY
from workflows.submission import submit_request

SIGNIFY = shutil.which("signify-openbsd")
needs_signify = pytest.mark.skipif(SIGNIFY is None, reason="apt-get install signify-openbsd (.ci/run does)")


@pytest.fixture
def keys(tmp_path, capsys) -> Path:
    assert main(["keygen", "--out", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    return tmp_path / "keys"


@pytest.fixture
async def recorded(sessions, database_url, clock, monkeypatch):
    uows = uow_factory(sessions, clock)
    for _ in range(2):
        async with uows() as uow:
            await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
            await uow.commit()
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def export(tmp_path, monkeypatch, capsys, key: Path | None) -> tuple[int, str, Path]:
    if key is None:
        monkeypatch.delenv("CLEARANCE_SIGNING_KEY", raising=False)
    else:
        monkeypatch.setenv("CLEARANCE_SIGNING_KEY", str(key))
    out = tmp_path / "export"
    code = main(["export", "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err, out


def verify(folder: Path, key: Path, capsys) -> tuple[int, str]:
    code = main(["export", "verify", str(folder), "--key", str(key)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def signify(folder: Path, key: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SIGNIFY, "-C", "-p", str(key), "-x", "SHA256.sig"], cwd=folder, capture_output=True, text=True, check=False
    )


@needs_signify
def test_signify_accepts_the_keys_clearance_makes(keys, tmp_path):
    message = tmp_path / "m.txt"
    message.write_text("hello\n")
    signed = subprocess.run(
        [SIGNIFY, "-S", "-s", str(keys / "clearance.sec"), "-m", str(message)], capture_output=True, text=True
    )
    assert signed.returncode == 0, signed.stderr
    checked = subprocess.run(
        [SIGNIFY, "-V", "-p", str(keys / "clearance.pub"), "-m", str(message)], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "Signature Verified" in checked.stdout


async def test_an_unsigned_export_says_so_and_has_the_chain_head(recorded, tmp_path, monkeypatch, capsys):
    code, said, out = export(tmp_path, monkeypatch, capsys, None)
    assert code == 0 and "Unsigned" in said
    assert not (out / "SHA256.sig").exists() and not (out / "SHA256").exists()
    chain = json.loads((out / "manifest.json").read_text())["audit_chain"]
    assert chain["head_seq"] >= 2 and len(chain["head_hash"]) == 64 and chain["start_seq"] == 0
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


@needs_signify
async def test_a_signed_export_is_checked_by_signify_and_by_clearance(recorded, keys, tmp_path, monkeypatch, capsys):
    code, said, out = export(tmp_path, monkeypatch, capsys, keys / "clearance.sec")
    assert code == 0 and "Signed" in said
    checked = signify(out, keys / "clearance.pub")
    assert checked.returncode == 0, checked.stderr
    assert "audit_log.csv: OK" in checked.stdout and "manifest.json: OK" in checked.stdout
    code, line = verify(out, keys / "clearance.pub", capsys)
    assert code == 0 and line.startswith("intact: signature, every file, and the audit chain"), line


@needs_signify
@pytest.mark.parametrize("tampering", ["edit a CSV", "replace the manifest", "recompute the checksums", "wrong key"])
async def test_a_tampered_export_is_refused_by_both(recorded, keys, tmp_path, monkeypatch, capsys, tampering):
    code, _, out = export(tmp_path, monkeypatch, capsys, keys / "clearance.sec")
    assert code == 0
    public = keys / "clearance.pub"
    if tampering == "edit a CSV":
        path = out / "audit_log.csv"
        path.write_text(path.read_text().replace("U0OFFICER", "U0SOMEONE"))
        expected = "audit_log.csv: does not match its signed checksum (changed after signing)"
    elif tampering == "replace the manifest":
        manifest = json.loads((out / "manifest.json").read_text())
        manifest["rows"]["audit_log"] = 1
        (out / "manifest.json").write_text(json.dumps(manifest))
        expected = "manifest.json: does not match its signed checksum (changed after signing)"
    elif tampering == "recompute the checksums":
        path = out / "audit_log.csv"
        path.write_text(path.read_text().replace("U0OFFICER", "U0SOMEONE"))
        listed = checksum_list(out, sorted(p.name for p in out.iterdir() if not p.name.startswith("SHA256")))
        (out / "SHA256").write_bytes(listed)
        head, sig, _ = (out / "SHA256.sig").read_bytes().split(b"\n", 2)
        (out / "SHA256.sig").write_bytes(head + b"\n" + sig + b"\n" + listed)
        expected = "SHA256.sig: the signature does not match the signed checksums (they were changed after signing)"
    else:
        assert main(["keygen", "--out", str(tmp_path / "other")]) == 0
        capsys.readouterr()
        public = tmp_path / "other" / "clearance.pub"
        expected = "SHA256.sig was signed with another key"
    assert signify(out, public).returncode != 0
    assert verify(out, public, capsys) == (1, expected)


@pytest.mark.parametrize("problem", ["missing", "unreadable", "wrong format"])
async def test_a_bad_signing_key_is_one_clear_message_and_nothing_is_written(
    recorded, tmp_path, monkeypatch, capsys, problem
):
    key = tmp_path / "clearance.sec"
    if problem == "unreadable":
        key.mkdir()  # a folder: cannot be read as a file, even by root
    elif problem == "wrong format":
        key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n")
    code, said, out = export(tmp_path, monkeypatch, capsys, key)
    assert code == 2 and len(said.strip().splitlines()) == 1 and "Traceback" not in said
    assert {"missing": "does not exist", "unreadable": "cannot be read", "wrong format": "is not a signify"}[
        problem
    ] in said
    assert not out.exists()
    code, line = verify(tmp_path, key, capsys)
    assert code == 2 and "Traceback" not in line


async def test_an_export_into_a_folder_that_has_files_is_refused(recorded, tmp_path, monkeypatch, capsys):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "earlier.csv").write_text("kept\n")
    code, said, out = export(tmp_path, monkeypatch, capsys, None)
    assert code == 2 and "already exists and is not empty" in said
    assert [p.name for p in out.iterdir()] == ["earlier.csv"]
