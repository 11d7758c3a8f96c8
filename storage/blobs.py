"""Blob backends chosen by STORAGE_URL: a local folder (file:///path) or MinIO/S3 (s3://KEY:SECRET@HOST:PORT/BUCKET).

Keys are content-addressed by the caller (e.g. the SHA-256 of the bytes) so a write never replaces
other bytes; writes stream in chunks and are never held whole in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

CHUNK = 1024 * 1024
# S3's smallest multipart part: minio buffers (and hashes) one part at a time, so this bounds memory per upload.
PART_SIZE = 5 * CHUNK


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


class BlobStore(Protocol):
    def put(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredBlob: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid blob key '{key}'")
    return key


class LocalBlobStore:
    """A folder; each write goes to a temporary file first and is renamed into place when complete."""

    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredBlob:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)  # a killed write leaves only a .part- file, never a half blob
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredBlob(key, size, digest.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class _HashingReader:
    """Wraps a stream so the bytes are hashed and counted as the S3 client reads them."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


class S3BlobStore:
    """MinIO or any S3 endpoint through the `minio` client; multipart upload of unknown length."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, secure: bool = False):
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure)
        if not self.client.bucket_exists(bucket):
            self.client.make_bucket(bucket)

    def put(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredBlob:
        reader = _HashingReader(stream)
        # length=-1 with a part size: streamed as a multipart upload, never buffered whole.
        self.client.put_object(
            self.bucket, _check_key(key), reader, length=-1, part_size=PART_SIZE, content_type=content_type
        )
        return StoredBlob(key, reader.size, reader.digest.hexdigest())

    def open(self, key: str) -> Iterator[bytes]:
        response = self.client.get_object(self.bucket, _check_key(key))
        try:
            yield from response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, _check_key(key))


def from_url(url: str) -> BlobStore:
    """file:///path → LocalBlobStore; s3://KEY:SECRET@HOST:PORT/BUCKET (s3s:// for TLS) → S3BlobStore."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalBlobStore(Path(unquote(parts.path)))
    if parts.scheme in ("s3", "s3s"):
        bucket = parts.path.strip("/")
        if not (parts.hostname and parts.username and parts.password and bucket):
            raise ValueError("STORAGE_URL must look like s3://KEY:SECRET@HOST:PORT/BUCKET")
        endpoint = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        return S3BlobStore(endpoint, unquote(parts.username), unquote(parts.password), bucket, parts.scheme == "s3s")
    raise ValueError(f"STORAGE_URL scheme '{parts.scheme}' is not supported: use file:///path or s3://…")


def copy_between(source: BlobStore, target: BlobStore, key: str) -> StoredBlob:
    """Copy one blob across backends through a spooled temporary file (bounded memory)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
        for chunk in source.open(key):
            spool.write(chunk)
        spool.seek(0)
        return target.put(key, spool)  # type: ignore[arg-type]


__all__ = ["BlobStore", "LocalBlobStore", "S3BlobStore", "StoredBlob", "copy_between", "from_url"]
