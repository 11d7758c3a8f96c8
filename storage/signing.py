"""Signatures over an archive's manifest, as a plug-in: each algorithm by name (Ed25519 here; SM2 where the rules
require it registers itself the same way). A private key comes from the environment; only its public half is shown.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class Signer(Protocol):
    algorithm: str

    def sign(self, data: bytes) -> bytes: ...

    def public_pem(self) -> bytes: ...


Verifier = Callable[[bytes, bytes, bytes], bool]  # (public key PEM, data, signature) -> valid


@dataclass(frozen=True)
class Ed25519Signer:
    key: Ed25519PrivateKey
    algorithm: str = "ed25519"

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _ed25519_verify(public_pem: bytes, data: bytes, signature: bytes) -> bool:
    key = serialization.load_pem_public_key(public_pem)
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _ed25519_from(secret: str) -> Ed25519Signer:
    """A key as the environment holds it: the 32-byte seed in base64."""
    raw = base64.b64decode(secret.strip(), validate=True)
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 key is 32 bytes (base64), not {len(raw)}")
    return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(raw))


def new_ed25519_secret() -> str:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


SIGNERS: dict[str, Callable[[str], Signer]] = {"ed25519": _ed25519_from}
VERIFIERS: dict[str, Verifier] = {"ed25519": _ed25519_verify}


def register(algorithm: str, load: Callable[[str], Signer], verify: Verifier) -> None:
    """The plug-in point: another algorithm (SM2) loads its signer from a secret and verifies with a public key."""
    SIGNERS[algorithm], VERIFIERS[algorithm] = load, verify


def signer(algorithm: str, secret: str) -> Signer:
    if algorithm not in SIGNERS:
        raise ValueError(f"no signing algorithm '{algorithm}'; known: {', '.join(sorted(SIGNERS))}")
    return SIGNERS[algorithm](secret)


def verify(algorithm: str, public_pem: bytes, data: bytes, signature: bytes) -> bool:
    check = VERIFIERS.get(algorithm)
    return check is not None and check(public_pem, data, signature)


def fingerprint(public_pem: bytes) -> str:
    """A public key's short name: what an archive records and the page shows beside the key."""
    return hashlib.sha256(public_pem).hexdigest()[:16]
