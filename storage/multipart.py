"""Multipart uploads as bytes: the body streamed in chunks to a staging file, hashed and counted, and refused the
moment it passes the size limit; the client's file name cleaned, and the download's Content-Disposition.

An upload never sits in memory whole: the body is read into the blob store's staging file, so the store can adopt
the file without a copy. What the bytes are is `sniff`'s business; who may upload, and what is kept, the caller's.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO
from urllib.parse import quote

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from storage.blobs import BlobStore, Staged
from storage.sniff import Kind
from workflow.errors import InvalidInput, Problem, WorkflowError

CHUNK = 256 * 1024
MAX_FIELD = 1024  # `category` is a short key; nothing else is accepted
MAX_PARTS = 8
MAX_FILENAME = 200


class UploadTooLarge(WorkflowError):
    status = 413
    code = "too_large"
    title = "File too large"

    def __init__(self, max_bytes: int):
        message = f"the file is larger than the upload limit of {max_bytes} bytes ({max_bytes / 2**20:.0f} MB)"
        super().__init__(message, max_bytes=max_bytes, errors=[Problem("file", "too_large", message).as_dict()])


def _malformed(why: str) -> InvalidInput:
    message = f"the multipart body is malformed or incomplete: {why}"
    return InvalidInput(message, [Problem("file", "malformed", message)])


# --- receiving the body ---------------------------------------------------------------------------------------


@dataclass
class Received:
    """The parsed multipart body: small fields in memory, the one file in a staged temporary file."""

    fields: dict[str, str] = field(default_factory=dict)
    staged: Staged | None = None
    filename: str | None = None
    size: int = 0
    sha256: str = ""
    unexpected: list[str] = field(default_factory=list)

    @property
    def file(self) -> BinaryIO | None:
        return self.staged.file if self.staged is not None else None

    def close(self) -> None:
        if self.staged is not None:
            self.staged.discard()  # unless the store adopted it: a refused or failed upload leaves no file

    def __enter__(self) -> Received:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Sink:
    """Writes the file part to disk, hashing and counting; refuses the byte that passes the limit."""

    def __init__(self, out: BinaryIO, max_bytes: int):
        self.out, self.max_bytes, self.size, self.digest = out, max_bytes, 0, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        self.digest.update(data)
        self.out.write(data)


def receive(
    stream: IO[bytes],
    boundary: bytes,
    max_bytes: int,
    tmp_dir: str | Path | None = None,
    chunk: int = CHUNK,
    extra_fields: Collection[str] = (),
    store: BlobStore | None = None,
) -> Received:
    """Parse multipart/form-data from `stream` chunk by chunk; the part named `file` goes to a temporary file.

    The file is `store`'s staging file, so the store can adopt it without a copy; with no store, an anonymous
    temporary file in `tmp_dir`. Besides `category`, only the small fields named in `extra_fields` are kept (a page
    form's CSRF token).
    """
    kept = {"category", *extra_fields}
    # Preamble and part headers are buffered until complete: bound them so no one streams 200 MB of "headers".
    decoder = MultipartDecoder(boundary, max_form_memory_size=chunk + 64 * 1024)
    received = Received()
    sink: _Sink | None = None
    part: Field | File | None = None
    value = bytearray()
    parts = 0
    try:
        while True:
            data = stream.read(chunk)
            try:
                decoder.receive_data(data or None)
            except RequestEntityTooLarge:  # the decoder's bound, not the request's
                raise _malformed("a part's headers (or the preamble) are too long") from None
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, File | Field):
                    parts += 1
                    if parts > MAX_PARTS:
                        raise _malformed(f"more than {MAX_PARTS} parts")
                    part, value = event, bytearray()
                    if isinstance(event, File):
                        if event.name != "file" or received.file is not None:
                            raise InvalidInput(
                                "send exactly one file, in the part named 'file'",
                                [Problem(event.name or "file", "unexpected_file", "send one file, as 'file'")],
                            )
                        received.staged = _staging(store, tmp_dir)
                        received.filename = event.filename
                        sink = _Sink(received.staged.file, max_bytes)
                elif isinstance(event, Data):
                    if isinstance(part, File):
                        assert sink is not None
                        sink.write(event.data)
                    elif isinstance(part, Field):
                        value.extend(event.data)
                        if len(value) > MAX_FIELD:
                            message = f"'{part.name}' is longer than {MAX_FIELD} bytes"
                            raise InvalidInput(message, [Problem(part.name, "too_long", message)])
                        if not event.more_data:
                            if part.name in kept:
                                received.fields[part.name] = value.decode("utf-8", "replace").strip()
                            elif part.name != "file":  # a plain field 'file' is answered as a missing file
                                received.unexpected.append(part.name)
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                break
            if not data:
                raise _malformed("the body ended before the closing boundary")
    except ValueError as exc:  # the decoder's complaint about the framing
        received.close()
        raise _malformed(str(exc)) from None
    except BaseException:
        received.close()
        raise
    if sink is not None and received.file is not None:
        received.file.flush()
        received.size, received.sha256 = sink.size, sink.digest.hexdigest()
    return received


def _staging(store: BlobStore | None, tmp_dir: str | Path | None) -> Staged:
    if store is not None:
        return store.staging(tmp_dir)
    return Staged(tempfile.TemporaryFile(dir=tmp_dir))


# --- names ----------------------------------------------------------------------------------------------------


def blob_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


def clean_filename(raw: str | None, kind: Kind) -> str:
    """The client's name for display: no path, no control or bidi characters, an extension that fits the bytes."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: controls, and format characters such as U+202E, which can make "exe.pdf" read "fdp.exe".
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if f".{ext.lower()}" not in kind.extensions:
        # A PDF named .html would open in a browser when saved; the name must say what the bytes are.
        stem, ext = name, kind.extensions[0].lstrip(".")
    stem = stem or "附件"
    return f"{stem[: MAX_FILENAME - len(ext) - 1]}.{ext}"


def content_disposition(filename: str) -> str:
    """Always `attachment`; the UTF-8 name per RFC 5987/6266, with an ASCII fallback for old clients."""
    stem, _, ext = filename.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._ ()-]+", "_", ascii_stem).strip(" _.") or "attachment"
    fallback = f"{ascii_stem}.{re.sub(r'[^A-Za-z0-9]', '', ext)}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
