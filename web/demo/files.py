"""The demo's stand-in files: a one-page PDF for a scanned document, a multipart body as a browser sends it, and a
drawn signature as a PNG (no external tools, so the demo runs on a bare machine)."""

from __future__ import annotations

import math
import struct
import zlib


def demo_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document."""
    text = f"BT /F1 18 Tf 72 760 Td (Demo scan: {title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def multipart_body(category: str, filename: str, data: bytes) -> tuple[bytes, bytes]:
    """The body a browser would send for the upload form: (boundary, body)."""
    boundary = b"emc-demo-boundary-" + category.encode()
    head = (
        b'--%s\r\nContent-Disposition: form-data; name="category"\r\n\r\n%s\r\n'
        b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    ) % (boundary, category.encode(), boundary, filename.encode())
    return boundary, head + data + b"\r\n--%s--\r\n" % boundary


def signature_png(name: str, width: int = 96, height: int = 24) -> bytes:
    """A small greyscale PNG with one pen stroke (its wave set by the name): what a drawn signature arrives as."""
    phase = sum(name.encode()) % 17
    rows = b""
    for y in range(height):
        line = [0 if abs(y - height / 2 - 6 * math.sin((x + phase) / 7)) <= 1.2 else 255 for x in range(width)]
        rows += b"\x00" + bytes(line)  # each row starts with its filter type: none

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
