"""Upload helpers: an attachment posted through the API or the page, a body that dies halfway, a PNG of a size."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

PREFIX = "/api/v1"


MB = 1024 * 1024


def peak_allocation(call: Callable[[], T]) -> tuple[T, int]:
    """What the call returns, and the peak of Python's allocations (bytes) while it ran."""
    tracemalloc.start()
    try:
        answer = call()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, peak


def upload(client: Any, headers: dict[str, str], app_id: int, category: str, data: bytes, filename: str) -> Any:
    return client.post(
        f"{PREFIX}/applications/{app_id}/attachments",
        data={"category": category, "file": (io.BytesIO(data), filename, "application/pdf")},
        headers=headers,
    )


class DiesHalfway(io.BytesIO):
    """A client that sends part of the body and then its connection breaks."""

    def __init__(self, data: bytes, after: int):
        super().__init__(data)
        self.after = after

    def readinto(self, buffer: Any) -> int:
        if self.tell() >= self.after:
            raise ConnectionResetError("client went away")
        view = memoryview(buffer)[: self.after - self.tell()]
        return super().readinto(view)

    def read(self, n: int | None = -1) -> bytes:
        buffer = bytearray(n if n is not None and n >= 0 else self.after)
        return bytes(buffer[: self.readinto(buffer)])


def post_upload(client: Any, app_id: int, category: str | None, data: bytes | None, filename: str = "附件.pdf",
                headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> Any:  # fmt: skip
    form: dict[str, Any] = dict(extra or {})
    if category is not None:
        form["category"] = category
    # A browser sends an empty file part when nothing was chosen.
    form["file"] = (io.BytesIO(data or b""), filename if data is not None else "", "application/octet-stream")
    return client.post(f"/applications/{app_id}/attachments", data=form, headers=headers or {})


def png(width: int, height: int) -> bytes:
    """A grey PNG of the given size (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
