"""The application binder at size (issue 13 item 8): 60 attachments totalling 300 MB, bound as 附件4 prescribes.

    python -m bench.binder                       # 50 PDFs of 5 MB and 10 PNG images of 5 MB: 300 MB
    python -m bench.binder --pdfs 5 --images 1   # a quick look

Peak memory (VmRSS sampled every 20 ms, this process, against its level before; goal < 300 MB) and time. The
baseline measured in the same run is a plain read of every attachment from the blob store (hashing it), which is
the least any binder must do. The files are written to a local blob store and registered directly (the upload path
has its own benchmark): what is measured is the binding.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import os
import platform
import struct
import tempfile
import time
import zlib
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

from applications import binder
from applications.models import Attachment
from bench.meters import peak_memory
from forms.samples import sample_form
from storage.blobs import LocalBlobStore
from web.core import migrate
from web.core.config import from_environment
from workflow import audit, operations
from workflow.accounts import SYSTEM, Organisation, User
from workflow.db import db

MB = 1 << 20


def pdf_of(size: int) -> bytes:
    """A two-page PDF of about `size` bytes (its first page's content stream is mostly comment lines)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    filler = os.urandom(size // 2).hex().encode()
    stream = DecodedStreamObject()
    stream.set_data(b"%" + filler[: size - 64] + b"\n")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_of(size: int) -> bytes:
    """An RGB PNG of noise, stored uncompressed, of about `size` bytes."""
    side = int((size / 3) ** 0.5)
    raw = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def prepare(workdir: Path, pdfs: int, images: int, each: int) -> tuple[int, LocalBlobStore, int]:
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    db.configure(url)
    audit.configure(from_environment()["AUDIT_KEYS"])
    migrate.upgrade(url)
    store = LocalBlobStore(workdir / "blobs")
    with db.transaction() as session:
        operations.seed_programmes(session)
        org = Organisation(uscc="91310000MA1FL0BEN1", name="基准测试单位", kind="enterprise", district="闵行区")
        session.add(org)
        session.flush()
        user = User(username="bench", role="applicant", organisation_id=org.id, password_hash="x")
        session.add(user)
        session.flush()
        user_id = user.id
    form = {**sample_form("emc-acceptance", "enterprise"), "district": "闵行区"}
    app = operations.create_application(user_id, "emc-acceptance", "enterprise", "装订基准项目", form)
    total = 0
    with db.transaction() as session:
        for n in range(pdfs + images):
            data = pdf_of(each) if n < pdfs else png_of(each)
            sha = hashlib.sha256(data).hexdigest()
            key = f"sha256/{sha[:2]}/{sha}"
            store.put(key, io.BytesIO(data))
            kind = "application/pdf" if n < pdfs else "image/png"
            name = f"附件{n + 1}.{'pdf' if n < pdfs else 'png'}"
            session.add(
                Attachment(
                    application_id=app.id, category="other", filename=name, content_type=kind, size=len(data),
                    sha256=sha, blob_key=key, version=n + 1, uploaded_by_id=user_id,
                )
            )  # fmt: skip
            total += len(data)
            del data
    return app.id, store, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.binder", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pdfs", type=int, default=50)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--each-mb", type=float, default=5)
    args = parser.parse_args(argv)
    print(f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench-binder-") as folder:
        work = Path(folder)
        app_id, store, total = prepare(work, args.pdfs, args.images, int(args.each_mb * MB))
        print(f"attachments: {args.pdfs} PDFs and {args.images} PNG images, {total / MB:,.0f} MiB in the blob store")

        def read_all() -> int:
            with db.transaction() as session:
                rows = session.query(Attachment).filter_by(application_id=app_id).all()
                keys = [r.blob_key for r in rows]
            seen = 0
            for key in keys:
                digest = hashlib.sha256()
                for chunk in store.open(key):
                    digest.update(chunk)
                    seen += len(chunk)
            return seen

        with peak_memory() as memory:
            start = time.perf_counter()
            read_all()
            baseline = time.perf_counter() - start
        read_grew = (memory["peak"] - memory["before"]) / 1024
        print(f"baseline: read and hash every attachment: {baseline:.1f} s, +{read_grew:,.0f} MiB")

        out = work / "binder.docx"
        with peak_memory() as memory, db.transaction() as session, out.open("wb") as stream:
            start = time.perf_counter()
            _app, bound = binder.bind(session, SYSTEM, app_id, store, stream)
            elapsed = time.perf_counter() - start
        grew = (memory["peak"] - memory["before"]) / 1024
        images = sum(1 for b in bound if b.placed and b.pages is None)
        pages = sum(b.rendered for b in bound)
        print(
            f"binder: {elapsed:.1f} s ({elapsed / baseline:.1f}× the read), {len(bound)} attachments ({images} images "
            f"and {pages} PDF pages placed), {out.stat().st_size / MB:,.0f} MiB .docx; peak memory +{grew:,.0f} MiB  "
            "(goal < 300 MB)"
        )
        print(f"  on {dt.date.today()}")
        db.engine.dispose()  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
