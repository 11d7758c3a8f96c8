"""Content typing by the bytes: each allowed type, ZIP subtypes from the central directory, and refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import BinaryIO

import docx
import pytest

from storage import sniff
from storage.sniff import refusal

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
# What a Windows program starts with (the DOS stub), renamed to look like a scan.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"This program cannot be run in DOS mode."
)
HTML = "<!DOCTYPE html>\n<html><body><script>alert('x')</script>营业执照</body></html>\n".encode()


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def real_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("设备清单")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def kind_of(data: bytes) -> sniff.Kind:
    return sniff.sniff(io.BytesIO(data))


@pytest.mark.parametrize(
    "data,name,content_type",
    [
        (PDF, "pdf", "application/pdf"),
        (JPEG, "jpeg", "image/jpeg"),
        (PNG, "png", "image/png"),
        (zipped("OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml"), "ofd", "application/ofd"),
        (real_docx(), "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (
            zipped("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml"),
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (zipped("扫描件/营业执照.pdf", "readme.txt"), "zip", "application/zip"),
        # Office markers without the part they name are just a ZIP.
        (zipped("[Content_Types].xml", "ppt/presentation.xml"), "zip", "application/zip"),
        ("设备名称,型号,生产厂家\n电能表,DTZ341,正泰\n水表,LXS-50,宁波\n".encode(), "csv", "text/csv; charset=utf-8"),
        ("\ufeff名称,数量\n电能表,12\n".encode(), "csv", "text/csv; charset=utf-8"),
        ("设备名称,型号\n电能表,DTZ341\n".encode("gb18030"), "csv", "text/csv; charset=gb18030"),
        (b"name\tmodel\tcount\nmeter\tDTZ341\t12\n", "csv", "text/csv; charset=utf-8"),
        (b'name,notes\n"meter, tier 1","line one\nline two"\nwater,ok\n', "csv", "text/csv; charset=utf-8"),
    ],
)
def test_allowed_types_are_recognised_by_their_bytes(data, name, content_type):
    kind = kind_of(data)
    assert (kind.name, kind.content_type, kind.allowed) == (name, content_type, True)


@pytest.mark.parametrize(
    "data,content_type",
    [
        (EXE, "application/x-msdownload"),
        (HTML, "text/html"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "application/x-ole-storage"),  # a legacy .doc
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"\x7fELF\x02\x01\x01", "application/x-executable"),
        (b"", "application/x-empty"),
        (b"just a note without any columns\nsecond line\n", "text/plain"),
        (b"a,b,c\n1,2\n", "text/plain"),  # rows of different widths
        (b"a,b\x00,c\n1,2,3\n", "application/octet-stream"),  # NUL: binary, whatever it looks like
        (bytes(range(256)) * 4, "application/octet-stream"),
        (b"PK\x03\x04" + b"\x00" * 200, "application/zip"),  # a ZIP header with no directory: damaged
    ],
)
def test_everything_else_is_refused(data, content_type):
    kind = kind_of(data)
    assert not kind.allowed
    assert kind.content_type == content_type


def test_an_executable_named_pdf_is_refused_and_the_message_names_what_was_found():
    kind = kind_of(EXE)
    assert kind.name == "exe"
    assert "application/x-msdownload" in refusal(kind, "zh") and "PDF" in refusal(kind, "zh")
    assert refusal(kind, "en").startswith("file type not allowed: detected a Windows executable")


def test_a_damaged_zip_is_refused():
    kind = kind_of(zipped("OFD.xml")[:-30])  # the end-of-directory record cut off
    assert (kind.name, kind.allowed) == ("zip-damaged", False)


class CountingFile(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, path: Path):
        self.fh: BinaryIO = path.open("rb")
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.fh.seek(offset, whence)

    def tell(self) -> int:
        return self.fh.tell()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.read_bytes += len(data)
        return data

    def close(self) -> None:
        self.fh.close()
        super().close()


def test_a_large_zip_is_typed_from_its_central_directory_without_reading_the_rest(tmp_path):
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/media/photo.bin", b"\x00" * (20 * 1024 * 1024))
    counting = CountingFile(path)
    try:
        assert sniff.sniff(counting).name == "xlsx"  # type: ignore[arg-type]
        assert counting.read_bytes < 256 * 1024
    finally:
        counting.close()


def test_a_large_csv_is_judged_on_its_start_even_when_the_window_cuts_a_character():
    body = "上海市闵行区,电能表,DTZ341,12\n".encode() * (3 * sniff.TEXT_WINDOW // 40)
    # Shift the text until the window's edge falls inside a three-byte character.
    data = next(b"x" * n + body for n in range(3) if 0x80 <= (b"x" * n + body)[sniff.TEXT_WINDOW] < 0xC0)
    assert kind_of(data).content_type == "text/csv; charset=utf-8"
