"""Blob backends: a local folder and a real S3 endpoint (moto's server on 127.0.0.1) through the minio client."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from minio.error import S3Error

from storage.blobs import PART_SIZE, LocalBlobStore, S3BlobStore, StoredBlob, copy_between, from_url


@pytest.fixture(scope="module")
def s3_url(s3_endpoint: str) -> str:
    return f"{s3_endpoint}/emc-blobs"


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> LocalBlobStore | S3BlobStore:  # type: ignore[no-untyped-def]
    if request.param == "file":
        return from_url(f"file://{tmp_path / 'blobs'}")  # type: ignore[return-value]
    return from_url(request.getfixturevalue("s3_url"))  # type: ignore[return-value]


def test_put_then_read_back_the_same_bytes_and_hash(store):
    data = bytes(range(256)) * 20_000  # ~5 MB: more than one chunk and one S3 part boundary is not needed
    stored = store.put("ab/cd/blob1", io.BytesIO(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists("ab/cd/blob1")
    assert b"".join(store.open("ab/cd/blob1")) == data


def test_missing_blob_does_not_exist_and_delete_removes(store):
    assert not store.exists("no/such/blob")
    store.put("tmp/x", io.BytesIO(b"x"))
    store.delete("tmp/x")
    assert not store.exists("tmp/x")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a", ".part-x1y2", "a/.part-1"])
def test_keys_that_escape_the_store_are_refused(store, key):
    with pytest.raises(ValueError, match="invalid blob key"):
        store.put(key, io.BytesIO(b"x"))


def test_a_failed_local_write_leaves_no_blob(tmp_path):
    store = LocalBlobStore(tmp_path)

    class Breaks(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise ConnectionError("client went away")
            return b"y" * 1024

    with pytest.raises(ConnectionError):
        store.put("half/blob", Breaks())  # type: ignore[arg-type]
    assert not store.exists("half/blob")
    assert [p.name for p in (tmp_path / "half").iterdir()] == []


# --- staging: the caller writes a temporary file, the store adopts it -------------------------------------------


def staged_with(store, data: bytes, tmp_dir: Path | None = None):  # type: ignore[no-untyped-def]
    staged = store.staging(tmp_dir)
    staged.file.write(data)
    return staged


def leftovers(root: Path) -> list[str]:
    """Every file under the local root that is not a blob, i.e. a staged or half-written temporary file."""
    return sorted(p.name for p in root.rglob(".part-*"))


def test_a_staged_file_is_adopted_with_its_bytes_and_hash(store, tmp_path):
    data = bytes(range(256)) * 24_000  # ~6 MB: more than one S3 part
    assert len(data) > PART_SIZE
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "spool").mkdir()
    staged = staged_with(store, data, tmp_path / "spool")
    stored = store.put_file("sha256/ab/staged", staged, len(data), digest, "application/pdf")
    assert stored == StoredBlob("sha256/ab/staged", len(data), digest)
    assert b"".join(store.open("sha256/ab/staged")) == data
    assert staged.file.closed and staged.path is None
    if isinstance(store, LocalBlobStore):
        assert leftovers(store.root) == []


def test_the_local_store_adopts_the_staged_file_itself_not_a_copy(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    data = b"%PDF-1.7\n written once"
    staged = staged_with(store, data)
    assert staged.path is not None and staged.path.parent == store.root  # same filesystem: a rename
    assert staged.path.name.startswith(".part-")
    inode = os.fstat(staged.file.fileno()).st_ino
    store.put_file("sha256/cd/once", staged, len(data), hashlib.sha256(data).hexdigest())
    assert (store.root / "sha256/cd/once").stat().st_ino == inode
    assert leftovers(store.root) == []


def test_the_s3_store_stages_anonymously_in_the_given_folder(s3_url, tmp_path):
    store = from_url(s3_url)
    staged = staged_with(store, b"nothing to clean up", tmp_path)
    assert staged.path is None
    assert list(tmp_path.iterdir()) == []  # no name in the folder: the file dies with the process
    staged.discard()
    assert staged.file.closed


@pytest.mark.parametrize("declared", [-1, +1, +PART_SIZE])
def test_a_staged_file_of_another_size_is_refused_and_stores_nothing(store, declared):
    # Two S3 parts. Declared short: sent, then refused by its hash and deleted. Declared long: the first part is
    # sent, the last runs short, and the multipart upload is aborted before it completes.
    data = b"q" * (PART_SIZE + 1000)
    key = f"sha256/ef/short{declared}"
    staged = staged_with(store, data)
    with pytest.raises((ValueError, OSError)):
        store.put_file(key, staged, len(data) + declared, hashlib.sha256(data).hexdigest())
    assert not store.exists(key)
    assert staged.file.closed and staged.path is None
    if isinstance(store, LocalBlobStore):
        assert leftovers(store.root) == []


def test_a_staged_file_that_does_not_match_its_hash_is_not_kept_on_s3(s3_url):
    store = from_url(s3_url)
    staged = staged_with(store, b"other bytes")
    with pytest.raises(ValueError, match="sha256"):
        store.put_file("sha256/00/wrong", staged, 11, hashlib.sha256(b"these bytes").hexdigest())
    assert not store.exists("sha256/00/wrong")


def test_staging_onto_an_existing_key_keeps_the_blob_and_frees_the_file(store):
    data = b"%PDF-1.7\n already here"
    digest = hashlib.sha256(data).hexdigest()
    store.put("sha256/aa/there", io.BytesIO(data))
    staged = staged_with(store, data)
    assert store.put_file("sha256/aa/there", staged, len(data), digest) == StoredBlob(
        "sha256/aa/there", len(data), digest
    )
    assert b"".join(store.open("sha256/aa/there")) == data
    assert staged.file.closed
    if isinstance(store, LocalBlobStore):
        assert leftovers(store.root) == []


def test_a_local_rename_that_fails_leaves_no_blob_and_no_staged_file(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)
    staged = staged_with(store, b"abc")

    def no_rename(*_args: object) -> None:
        raise OSError("disk went read-only")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="read-only"):
        store.put_file("sha256/bb/fails", staged, 3, hashlib.sha256(b"abc").hexdigest())
    assert not store.exists("sha256/bb/fails")
    assert leftovers(tmp_path) == []


def test_an_abandoned_local_staging_file_is_one_no_key_names(tmp_path):
    """A process killed mid-upload leaves its .part- file: never served, and cleaned by discard when alive."""
    store = LocalBlobStore(tmp_path)
    staged = staged_with(store, b"half a bo")
    assert staged.path is not None
    assert leftovers(tmp_path) == [staged.path.name]
    with pytest.raises(ValueError, match="invalid blob key"):
        store.exists(staged.path.name)
    staged.discard()
    staged.discard()  # idempotent: a failed put_file and the request's cleanup may both call it
    assert leftovers(tmp_path) == []


def test_copy_between_backends(tmp_path, s3_url):
    local = from_url(f"file://{tmp_path}")
    remote = from_url(s3_url)
    local.put("k/1", io.BytesIO(b"hello S3"))
    stored = copy_between(local, remote, "k/1")
    assert stored.sha256 == hashlib.sha256(b"hello S3").hexdigest()
    assert b"".join(remote.open("k/1")) == b"hello S3"


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://x/y", "not supported"),
        ("s3://127.0.0.1:9000/bucket", "must look like"),
        ("s3://k:s@host/", "must look"),
        ("s3://k:s@127.0.0.1:9/b?object_lock=yes", "object_lock must be true or false, not 'yes'"),
    ],
)
def test_bad_storage_urls_say_what_is_expected(url, message):
    with pytest.raises(ValueError, match=message):
        from_url(url)


def test_the_app_uses_the_backend_storage_url_names(app, tmp_path):
    from web.core.extensions import blob_store

    store = blob_store(app)
    assert isinstance(store, LocalBlobStore)
    assert str(store.root) in app.config["STORAGE_URL"]


# --- write-once (issue 13 item 6: "stored in the blob store (write-once where the backend supports it)") ---

TEN_YEARS = dt.datetime(2036, 12, 5, 8, 30, tzinfo=dt.UTC)


def test_a_bucket_made_with_object_lock_holds_a_retained_blob_that_no_one_can_delete(s3_endpoint):
    store = from_url(f"{s3_endpoint}/emc-locked?object_lock=true")
    assert isinstance(store, S3BlobStore) and store.locking
    stored = store.put_retained("archives/ab/pkg.zip", io.BytesIO(b"the package"), TEN_YEARS, "application/zip")
    assert stored.retained_until == TEN_YEARS
    assert store.retained_until("archives/ab/pkg.zip") == TEN_YEARS
    version = store.client.stat_object(store.bucket, "archives/ab/pkg.zip").version_id
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(store.bucket, "archives/ab/pkg.zip", version_id=version)
    assert refused.value.code == "AccessDenied"
    assert b"".join(store.open("archives/ab/pkg.zip")) == b"the package"


def test_a_bucket_without_object_lock_says_it_retains_nothing(s3_url):
    store = from_url(s3_url)
    assert isinstance(store, S3BlobStore) and not store.locking
    stored = store.put_retained("archives/cd/pkg.zip", io.BytesIO(b"plain"), TEN_YEARS)
    assert stored.retained_until is None
    assert store.retained_until("archives/cd/pkg.zip") is None
    assert b"".join(store.open("archives/cd/pkg.zip")) == b"plain"


def test_a_folder_makes_the_blob_read_only_but_promises_no_retention(tmp_path):
    store = LocalBlobStore(tmp_path / "blobs")
    stored = store.put_retained("archives/ef/pkg.zip", io.BytesIO(b"local"), TEN_YEARS)
    assert stored.retained_until is None and store.retained_until("archives/ef/pkg.zip") is None
    assert (tmp_path / "blobs" / "archives/ef/pkg.zip").stat().st_mode & 0o222 == 0
    assert b"".join(store.open("archives/ef/pkg.zip")) == b"local"
