"""Sealed fields: values kept encrypted in the database (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

Keys come as a list: the first seals, every one opens. Rotation is adding a new key in front, running
`manage.py keys rotate` (which re-seals every stored value with it), then dropping the old key. A key is never
printed, logged or put into an error message; a value that no key opens is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealError(Exception):
    """A key that is not a Fernet key, or a sealed value that none of the keys opens."""


def generate_key() -> str:
    """A new random key: 32 bytes, URL-safe base64 (44 characters)."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(raw: str) -> list[str]:
    """FIELD_ENCRYPTION_KEYS as written: comma-separated, blanks and surrounding spaces ignored."""
    return [key.strip() for key in raw.split(",") if key.strip()]


class Sealer:
    """Seals with the first key, opens with any of them."""

    def __init__(self, keys: Sequence[str]):
        if not keys:
            raise SealError("no field encryption key: set FIELD_ENCRYPTION_KEYS")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # Which key, not what it is: the message may end up in a log.
                raise SealError(
                    f"field encryption key {position} of {len(keys)} is not a Fernet key "
                    "(32 bytes in URL-safe base64; make one with `manage.py keys generate`)"
                ) from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise SealError("a sealed value could not be opened with any configured key") from None

    def reseal(self, token: str) -> str:
        """The same value sealed with the first key (what rotation does to each stored value)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise SealError("a sealed value could not be opened with any configured key") from None


@lru_cache(maxsize=8)
def _cached(keys: tuple[str, ...]) -> Sealer:
    return Sealer(keys)


def sealer(keys: Iterable[str]) -> Sealer:
    """The Sealer for these keys, built once per key list (the app's config holds the list)."""
    return _cached(tuple(keys))
