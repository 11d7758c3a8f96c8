"""Blob backends chosen by STORAGE_URL: a local folder (file:///path) or MinIO/S3 (s3://KEY:SECRET@HOST:PORT/BUCKET).

Keys are content-addressed by the caller (e.g. the SHA-256 of the bytes) so a write never replaces
other bytes; writes stream in chunks and are never held whole in memory.

Two ways in: `put(key, stream)` copies a stream; `staging()` then `put_file(key, staged, …)` lets the caller write
a temporary file the store then adopts, which for the local folder is a rename, so the bytes are written once.

`put_retained(key, stream, until)` writes a blob that must outlive everyone's mistakes (archive packages). On S3 with
object lock (a bucket made with it: `?object_lock=true` on STORAGE_URL) the version is put under COMPLIANCE retention
until that date, which no account can shorten or delete; a folder cannot promise that, so there it is only made
read-only and reported as not retained.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast
from urllib.parse import parse_qs, unquote, urlsplit

CHUNK = 1024 * 1024
# S3's smallest multipart part: minio buffers (and hashes) one part at a time, so this bounds memory per upload.
PART_SIZE = 5 * CHUNK


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    retained_until: dt.datetime | None = None  # write-once until then, enforced by the backend; None: not enforced


class Staged:
    """A temporary file being written for a store to adopt with `put_file`; `discard` frees it, and is idempotent."""

    def __init__(self, file: BinaryIO, path: Path | None = None):
        self.file = file
        self.path = path  # None: anonymous, freed by closing (or by the process dying)

    def discard(self) -> None:
        self.file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def _adopted(self) -> None:
        """The store took the file under a key: its old name is gone, and must never be unlinked later."""
        self.path = None
        self.file.close()

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()


class BlobStore(Protocol):
    def put(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredBlob: ...

    def staging(self, tmp_dir: str | Path | None = None) -> Staged: ...

    def put_file(
        self, key: str, staged: Staged, size: int, sha256: str, content_type: str = "application/octet-stream"
    ) -> StoredBlob: ...

    def put_retained(
        self, key: str, stream: BinaryIO, until: dt.datetime, content_type: str = "application/octet-stream"
    ) -> StoredBlob: ...

    def retained_until(self, key: str) -> dt.datetime | None: ...

    def open(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def sweep_staging(self, older_than: float) -> int: ...

    def iter_keys(self) -> Iterator[str]: ...


STAGING_PREFIX = ".part-"


def _check_key(key: str) -> str:
    parts = key.split("/")
    # No part may look like a temporary file: so a leftover .part- file is one no key names.
    if not key or key.startswith("/") or any(p in ("", ".", "..") or p.startswith(STAGING_PREFIX) for p in parts):
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
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=STAGING_PREFIX)
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

    def staging(self, tmp_dir: str | Path | None = None) -> Staged:
        """A named file in the root (`tmp_dir` is ignored): on the blobs' filesystem, so adopting it is a rename.

        A process killed while writing it leaves this `.part-` file behind; no key can name it (see `_check_key`),
        so it is never served, and one older than any upload can take may be deleted.
        """
        fd, name = tempfile.mkstemp(dir=self.root, prefix=STAGING_PREFIX)
        return Staged(os.fdopen(fd, "w+b"), Path(name))

    def put_file(
        self, key: str, staged: Staged, size: int, sha256: str, content_type: str = "application/octet-stream"
    ) -> StoredBlob:
        """Adopt a file from `staging()`: synced, then renamed into place whole; the caller hashed it as written."""
        try:
            target = self._path(key)
            if staged.path is None or staged.path.parent != self.root:
                raise ValueError("put_file takes a file from this store's staging()")
            staged.file.flush()
            written = os.fstat(staged.file.fileno()).st_size
            if written != size:
                raise ValueError(f"staged file has {written} bytes, not the {size} declared for blob {key}")
            if not target.exists():  # content-addressed: if the key is there, so are these bytes
                target.parent.mkdir(parents=True, exist_ok=True)
                os.fsync(staged.file.fileno())
                os.replace(staged.path, target)  # atomic: the key names the whole file or nothing
                staged._adopted()
                _fsync_dir(target.parent)  # the new name survives a crash before the row is committed
        finally:
            staged.discard()  # not adopted (refused, failed, or the key existed): the .part- file goes
        return StoredBlob(key, size, sha256)

    def sweep_staging(self, older_than: float) -> int:
        """Delete `.part-` files left by killed writes, last touched more than `older_than` seconds ago."""
        cutoff, swept = time.time() - older_than, 0
        for path in self.root.rglob(STAGING_PREFIX + "*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    swept += 1
            except FileNotFoundError:
                pass  # adopted or discarded meanwhile
        return swept

    def put_retained(
        self, key: str, stream: BinaryIO, until: dt.datetime, content_type: str = "application/octet-stream"
    ) -> StoredBlob:
        """Written and made read-only; not retained: whoever owns the folder can still delete it."""
        stored = self.put(key, stream, content_type)
        self._path(key).chmod(0o444)
        return stored

    def retained_until(self, key: str) -> dt.datetime | None:
        return None  # a filesystem enforces no retention

    def open(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def iter_keys(self) -> Iterator[str]:
        """Every stored key, sorted (a backup's listing); staging files are no blobs."""
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not any(p.startswith(STAGING_PREFIX) for p in path.relative_to(self.root).parts):
                yield path.relative_to(self.root).as_posix()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        object_lock: bool = False,
    ):
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure)
        if not self.client.bucket_exists(bucket):
            # S3 turns object lock on only when a bucket is made; an existing bucket keeps what it was made with.
            self.client.make_bucket(bucket, object_lock=object_lock)
        self._locking: bool | None = None

    @property
    def locking(self) -> bool:
        """Whether the bucket was made with object lock (asked once)."""
        if self._locking is None:
            from minio.error import S3Error

            try:
                self.client.get_object_lock_config(self.bucket)
                self._locking = True
            except S3Error as exc:
                if exc.code != "ObjectLockConfigurationNotFoundError":
                    raise
                self._locking = False
        return self._locking

    def put(self, key: str, stream: BinaryIO, content_type: str = "application/octet-stream") -> StoredBlob:
        reader = _HashingReader(stream)
        # length=-1 with a part size: streamed as a multipart upload, never buffered whole.
        self.client.put_object(
            self.bucket,
            _check_key(key),
            cast(BinaryIO, reader),
            length=-1,
            part_size=PART_SIZE,
            content_type=content_type,
        )
        return StoredBlob(key, reader.size, reader.digest.hexdigest())

    def staging(self, tmp_dir: str | Path | None = None) -> Staged:
        """An anonymous temporary file in `tmp_dir` (the system's if None): nothing outlives the process."""
        return Staged(tempfile.TemporaryFile(dir=tmp_dir))

    def sweep_staging(self, older_than: float) -> int:
        """Nothing to sweep: staging files are anonymous, and an aborted multipart upload leaves no object."""
        return 0

    def put_file(
        self, key: str, staged: Staged, size: int, sha256: str, content_type: str = "application/octet-stream"
    ) -> StoredBlob:
        """Upload a staged file of known length in parts of PART_SIZE; checked against `size` and `sha256`."""
        try:
            _check_key(key)
            staged.file.flush()
            staged.file.seek(0)
            reader = _HashingReader(staged.file)
            # A known length: minio sends parts of PART_SIZE (at most three in flight), refuses a file that runs
            # short before completing, and aborts the multipart upload on any error, so no object appears.
            self.client.put_object(
                self.bucket, key, cast(BinaryIO, reader), length=size, part_size=PART_SIZE, content_type=content_type
            )
        finally:
            staged.discard()
        stored = StoredBlob(key, reader.size, reader.digest.hexdigest())
        if (stored.size, stored.sha256) != (size, sha256):
            self.delete(key)  # other bytes under a content address would be served as these
            raise ValueError(f"blob {key} was sent as {stored.size} bytes with sha256 {stored.sha256}")
        return stored

    def put_retained(
        self, key: str, stream: BinaryIO, until: dt.datetime, content_type: str = "application/octet-stream"
    ) -> StoredBlob:
        """Put, then hold that version under COMPLIANCE retention until `until` where the bucket locks objects.

        Retention is set on the written version rather than sent with the upload: S3 wants a Content-MD5 on a
        locked PUT, which a streamed multipart upload of unknown length cannot give up front.
        """
        stored = self.put(key, stream, content_type)
        if not self.locking:
            return stored
        from minio.commonconfig import COMPLIANCE
        from minio.retention import Retention

        version = self.client.stat_object(self.bucket, key).version_id
        self.client.set_object_retention(self.bucket, key, Retention(COMPLIANCE, until), version_id=version)
        return StoredBlob(stored.key, stored.size, stored.sha256, self.retained_until(key))

    def retained_until(self, key: str) -> dt.datetime | None:
        """The retain-until date the backend reports for the key's current version, if it is under COMPLIANCE."""
        meta = self.client.stat_object(self.bucket, _check_key(key)).metadata
        if meta.get("x-amz-object-lock-mode") != "COMPLIANCE":
            return None
        until = meta.get("x-amz-object-lock-retain-until-date")
        return dt.datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None

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

    def iter_keys(self) -> Iterator[str]:
        """Every object's key in the bucket (listed page by page, never held whole)."""
        for obj in self.client.list_objects(self.bucket, recursive=True):
            if obj.object_name is not None:
                yield obj.object_name


def from_url(url: str) -> BlobStore:
    """file:///path → LocalBlobStore; s3://KEY:SECRET@HOST:PORT/BUCKET (s3s:// for TLS) → S3BlobStore.

    `?object_lock=true` on an s3 URL makes a missing bucket with object lock, so archive packages are write-once.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalBlobStore(Path(unquote(parts.path)))
    if parts.scheme in ("s3", "s3s"):
        bucket = parts.path.strip("/")
        if not (parts.hostname and parts.username and parts.password and bucket):
            raise ValueError("STORAGE_URL must look like s3://KEY:SECRET@HOST:PORT/BUCKET")
        endpoint = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        lock = parse_qs(parts.query).get("object_lock", ["false"])[-1].lower()
        if lock not in ("true", "false"):
            raise ValueError(f"STORAGE_URL's object_lock must be true or false, not '{lock}'")
        return S3BlobStore(
            endpoint,
            unquote(parts.username),
            unquote(parts.password),
            bucket,
            parts.scheme == "s3s",
            object_lock=lock == "true",
        )
    raise ValueError(f"STORAGE_URL scheme '{parts.scheme}' is not supported: use file:///path or s3://…")


def copy_between(source: BlobStore, target: BlobStore, key: str) -> StoredBlob:
    """Copy one blob across backends through a spooled temporary file (bounded memory)."""
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as spool:
        for chunk in source.open(key):
            spool.write(chunk)
        spool.seek(0)
        return target.put(key, spool)  # type: ignore[arg-type]


__all__ = ["BlobStore", "LocalBlobStore", "S3BlobStore", "Staged", "StoredBlob", "copy_between", "from_url"]
