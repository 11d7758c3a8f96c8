"""An archive package as a BagIt bag (RFC 8493, the `bagit` library) in one zip: the payload under `data/`, a
SHA-256 manifest, and the tag manifest signed (storage.signing) so that a forged manifest fails as surely as a
changed byte or a missing file. Files stream in and out; nothing is held whole.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import bagit

from storage import signing

TOP = "bag"  # the bag's folder inside the zip
SIGNED = "tagmanifest-sha256.txt"  # covers bagit.txt, bag-info.txt and the payload manifest
SIGNATURE = "signature.json"
CHUNK = 1 << 20

logging.getLogger("bagit").setLevel(logging.WARNING)  # it logs every file it hashes


@dataclass(frozen=True)
class Written:
    files: int
    payload_bytes: int


def _safe(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"not a relative path inside the bag: {path!r}")
    return relative


def write(
    entries: Iterable[tuple[str, Iterable[bytes]]], info: dict[str, str], signer: signing.Signer, out: Path
) -> Written:
    """Write each (path, chunks) entry into a new bag with `info`, sign its tag manifest, zip it to `out`."""
    files = size = 0
    with tempfile.TemporaryDirectory(prefix="bag-") as tmp:
        root = Path(tmp) / TOP
        root.mkdir()
        for path, chunks in entries:
            target = root / _safe(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    size += len(chunk)
            files += 1
        bagit.make_bag(str(root), bag_info=info, checksums=["sha256"])
        signed = (root / SIGNED).read_bytes()
        signature = {
            "algorithm": signer.algorithm,
            "key": signing.fingerprint(signer.public_pem()),
            "signed": SIGNED,
            "signature": base64.b64encode(signer.sign(signed)).decode(),
        }
        (root / SIGNATURE).write_text(json.dumps(signature, indent=1), encoding="utf-8")
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for file in sorted(p for p in root.rglob("*") if p.is_file()):
                bundle.write(file, f"{TOP}/{file.relative_to(root).as_posix()}")
    return Written(files, size)


def _extract(bundle: zipfile.ZipFile, into: Path) -> list[str]:
    """Unpack safely (no absolute paths, no way out of `into`); returns the refusals."""
    refused = []
    for member in bundle.infolist():
        try:
            relative = _safe(member.filename)
        except ValueError as exc:
            refused.append(str(exc))
            continue
        if member.is_dir():
            continue
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with bundle.open(member) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
    return refused


def _payload(root: Path) -> list[str]:
    """Each payload file against the manifest, by name: missing, not listed, or with other bytes."""
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        return [f"not a bag: {exc}"]
    only_listed, only_present = bag.compare_manifests_with_fs()
    problems = [f"{path} is in the manifest but missing" for path in sorted(only_listed)]
    problems += [f"{path} is not in the manifest" for path in sorted(only_present)]
    for path, hashes in sorted(bag.payload_entries().items()):
        file = root / path
        expected = hashes.get("sha256")
        if not file.is_file() or expected is None:
            continue
        digest = hashlib.sha256()
        with file.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            problems.append(f"{path} sha256 validation failed: expected={expected} found={digest.hexdigest()}")
    return problems


def verify(package: Path, public_pem: bytes | None) -> list[str]:
    """Every way the package differs from what was signed: a payload file changed or missing, a manifest that does
    not match, a signature that does not verify with `public_pem`. Empty: intact."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bag-check-") as tmp:
        try:
            with zipfile.ZipFile(package) as bundle:
                problems += _extract(bundle, Path(tmp))
        except zipfile.BadZipFile as exc:
            return [f"not a zip archive: {exc}"]
        root = Path(tmp) / TOP
        problems += _payload(root)
        if not problems:  # the rest: bagit.txt, the tag manifest's own hashes, Payload-Oxum
            try:
                bagit.Bag(str(root)).validate(processes=1)
            except bagit.BagValidationError as exc:
                problems += [str(d) for d in getattr(exc, "details", [])] or [str(exc)]
            except bagit.BagError as exc:
                problems.append(f"not a bag: {exc}")
        try:
            signature = json.loads((root / SIGNATURE).read_text(encoding="utf-8"))
            signed = (root / signature.get("signed", SIGNED)).read_bytes()
            raw = base64.b64decode(signature["signature"])
        except (OSError, ValueError, KeyError) as exc:
            return [*problems, f"no readable signature: {exc}"]
        if public_pem is None:
            problems.append("no public key to check the signature with")
        elif signature.get("signed") != SIGNED:
            problems.append(f"the signature covers {signature.get('signed')}, not {SIGNED}")
        elif not signing.verify(signature.get("algorithm", ""), public_pem, signed, raw):
            key = signing.fingerprint(public_pem)
            problems.append(f"the signature over {SIGNED} does not verify with key {key} ({signature['algorithm']})")
    return problems


def read(package: Path, path: str) -> bytes:
    """One payload file's bytes (small ones: the package's own records)."""
    with zipfile.ZipFile(package) as bundle:
        return bundle.read(f"{TOP}/data/{_safe(path)}")
