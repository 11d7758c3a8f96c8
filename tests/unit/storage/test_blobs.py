"""Blob backends: a local folder and a real S3 endpoint (moto's server on 127.0.0.1) through the minio client."""

from __future__ import annotations

import hashlib
import io

import pytest

from storage.blobs import LocalBlobStore, S3BlobStore, copy_between, from_url


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


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "./a"])
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


def test_copy_between_backends(tmp_path, s3_url):
    local = from_url(f"file://{tmp_path}")
    remote = from_url(s3_url)
    local.put("k/1", io.BytesIO(b"hello S3"))
    stored = copy_between(local, remote, "k/1")
    assert stored.sha256 == hashlib.sha256(b"hello S3").hexdigest()
    assert b"".join(remote.open("k/1")) == b"hello S3"


@pytest.mark.parametrize(
    "url,message",
    [("ftp://x/y", "not supported"), ("s3://127.0.0.1:9000/bucket", "must look like"), ("s3://k:s@host/", "must look")],
)
def test_bad_storage_urls_say_what_is_expected(url, message):
    with pytest.raises(ValueError, match=message):
        from_url(url)


def test_the_app_uses_the_backend_storage_url_names(app, tmp_path):
    from web.app import blob_store

    store = blob_store(app)
    assert isinstance(store, LocalBlobStore)
    assert str(store.root) in app.config["STORAGE_URL"]
