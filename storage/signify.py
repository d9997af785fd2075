"""OpenBSD signify's formats, with Ed25519 from `cryptography`: keys, checksum lists, signatures.

So an auditor checks an export with a stock tool and no Clearance:
`signify-openbsd -C -p clearance.pub -x SHA256.sig` (in the export's folder).

- public key: `untrusted comment: …` then base64("Ed" | keynum[8] | public key[32])
- secret key: base64("Ed" | "BK" | kdfrounds[4] = 0 | salt[16] | checksum[8] | keynum[8] | secret[64]),
  unencrypted (signify -n: no passphrase, so a service can sign unattended); checksum is the first
  8 bytes of SHA-512 of the 64-byte secret (seed | public key)
- SHA256: `SHA256 (name) = hex` lines (BSD style); SHA256.sig: comment, base64("Ed" | keynum | signature[64]),
  then the signed text itself (signify -e), which is what `-C` checks every file against.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = b"Ed"
KDF = b"BK"
LINE = re.compile(r"^SHA256 \((?P<name>[^)]+)\) = (?P<hex>[0-9a-f]{64})$")


class KeyProblem(ValueError):
    """A key file that is missing, unreadable or not in signify's format: the message says which."""


@dataclass(frozen=True)
class SecretKey:
    keynum: bytes
    key: Ed25519PrivateKey


@dataclass(frozen=True)
class PublicKey:
    keynum: bytes
    key: Ed25519PublicKey


def keygen(folder: Path) -> tuple[Path, Path]:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    keynum, salt = os.urandom(8), os.urandom(16)
    secret = seed + public
    checksum = hashlib.sha512(secret).digest()[:8]
    sec_blob = ALG + KDF + (0).to_bytes(4, "big") + salt + checksum + keynum + secret
    pub_blob = ALG + keynum + public
    sec_path, pub_path = folder / "clearance.sec", folder / "clearance.pub"
    _write_new(sec_path, _armour("signify secret key", sec_blob), private=True)
    _write_new(pub_path, _armour("signify public key", pub_blob))
    return sec_path, pub_path


def _armour(comment: str, blob: bytes) -> bytes:
    return f"untrusted comment: {comment}\n".encode() + base64.b64encode(blob) + b"\n"


def _write_new(path: Path, data: bytes, *, private: bool = False) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _blob(path: Path, what: str, size: int) -> bytes:
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        raise KeyProblem(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise KeyProblem(f"{what} {path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        if len(lines) < 2 or not lines[0].startswith(b"untrusted comment: "):
            raise ValueError
        blob = base64.b64decode(lines[1], validate=True)
    except ValueError:
        blob = b""
    if len(blob) != size or blob[:2] != ALG:
        raise KeyProblem(f"{what} {path} is not a signify Ed25519 key (make one with `clearance keygen --out DIR`)")
    return blob


def read_secret(path: Path) -> SecretKey:
    blob = _blob(path, "The signing key", 104)
    rounds = int.from_bytes(blob[4:8], "big")
    if blob[2:4] != KDF or rounds != 0:
        raise KeyProblem(f"The signing key {path} is protected by a passphrase; Clearance needs one made with -n")
    checksum, keynum, secret = blob[24:32], blob[32:40], blob[40:104]
    if hashlib.sha512(secret).digest()[:8] != checksum:
        raise KeyProblem(f"The signing key {path} is damaged (its checksum does not match)")
    return SecretKey(keynum, Ed25519PrivateKey.from_private_bytes(secret[:32]))


def read_public(path: Path) -> PublicKey:
    blob = _blob(path, "The public key", 42)
    return PublicKey(blob[2:10], Ed25519PublicKey.from_public_bytes(blob[10:42]))


def checksum_list(folder: Path, names: list[str]) -> bytes:
    return "".join(
        f"SHA256 ({name}) = {hashlib.sha256((folder / name).read_bytes()).hexdigest()}\n" for name in names
    ).encode()


def sign(key: SecretKey, message: bytes, public_name: str = "clearance.pub") -> bytes:
    """SHA256.sig: the signature with the signed text embedded (signify -S -e)."""
    signature = key.key.sign(message)
    return _armour(f"verify with {public_name}", ALG + key.keynum + signature) + message


def open_signed(key: PublicKey, signed: bytes) -> bytes | str:
    """The embedded text if the signature is good, else why not."""
    head, _, rest = signed.partition(b"\n")
    line, _, message = rest.partition(b"\n")
    try:
        if not head.startswith(b"untrusted comment: "):
            raise ValueError
        blob = base64.b64decode(line, validate=True)
    except ValueError:
        return "SHA256.sig is not a signify signature"
    if len(blob) != 74 or blob[:2] != ALG:
        return "SHA256.sig is not a signify Ed25519 signature"
    if blob[2:10] != key.keynum:
        return "SHA256.sig was signed with another key"
    try:
        key.key.verify(blob[10:], message)
    except InvalidSignature:
        return "SHA256.sig: the signature does not match the signed checksums (they were changed after signing)"
    return message


def parse_checksums(text: bytes) -> dict[str, str] | str:
    found: dict[str, str] = {}
    for raw in text.decode("utf-8", "replace").splitlines():
        match = LINE.match(raw)
        if match is None:
            return f"a line of the checksum list is not `SHA256 (file) = hex`: {raw[:60]!r}"
        found[match["name"]] = match["hex"]
    return found
