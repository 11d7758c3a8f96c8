"""What a file is, decided by its bytes — magic numbers and a ZIP's central directory — never by its name.

Only the start of the file and, for a ZIP, its central directory are read: a 200 MB upload is typed in
kilobytes of memory. ZIP subtypes follow from the entry names: OFD (GB/T 33190) has ``OFD.xml`` at its root;
Office Open XML has ``[Content_Types].xml`` and ``word/`` (DOCX) or ``xl/`` (XLSX).
"""

from __future__ import annotations

import codecs
import csv
import io
import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Kind:
    name: str
    content_type: str
    zh: str
    en: str
    extensions: tuple[str, ...] = ()
    allowed: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


PDF = Kind("pdf", "application/pdf", "PDF 文档", "PDF document", (".pdf",), True)
JPEG = Kind("jpeg", "image/jpeg", "JPEG 图片", "JPEG image", (".jpg", ".jpeg"), True)
PNG = Kind("png", "image/png", "PNG 图片", "PNG image", (".png",), True)
OFD = Kind("ofd", "application/ofd", "OFD 版式文档", "OFD document", (".ofd",), True)
DOCX = Kind(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word 文档（DOCX）",
    "Word document (DOCX)",
    (".docx",),
    True,
)
XLSX = Kind(
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "Excel 表格（XLSX）",
    "Excel workbook (XLSX)",
    (".xlsx",),
    True,
)
ZIP = Kind("zip", "application/zip", "ZIP 压缩包", "ZIP archive", (".zip",), True)
CSV_UTF8 = Kind("csv", "text/csv; charset=utf-8", "CSV 表格（UTF-8）", "CSV (UTF-8)", (".csv",), True)
CSV_GB18030 = Kind("csv", "text/csv; charset=gb18030", "CSV 表格（GB18030）", "CSV (GB18030)", (".csv",), True)

EMPTY = Kind("empty", "application/x-empty", "空文件", "an empty file")
EXE = Kind("exe", "application/x-msdownload", "Windows 可执行程序", "a Windows executable")
ELF = Kind("elf", "application/x-executable", "Linux 可执行程序", "a Linux executable")
OLE = Kind(
    "ole", "application/x-ole-storage", "旧版 Office 文档（.doc/.xls，请另存为 DOCX/XLSX）", "a legacy .doc/.xls file"
)
GIF = Kind("gif", "image/gif", "GIF 图片", "a GIF image")
TIFF = Kind("tiff", "image/tiff", "TIFF 图片", "a TIFF image")
WEBP = Kind("webp", "image/webp", "WebP 图片", "a WebP image")
RAR = Kind("rar", "application/vnd.rar", "RAR 压缩包", "a RAR archive")
SEVEN_ZIP = Kind("7z", "application/x-7z-compressed", "7z 压缩包", "a 7z archive")
GZIP = Kind("gzip", "application/gzip", "gzip 压缩文件", "a gzip file")
BAD_ZIP = Kind("zip-damaged", "application/zip", "损坏的 ZIP 文件", "a damaged ZIP file")
HTML = Kind("html", "text/html", "HTML 网页", "an HTML page")
XML = Kind("xml", "application/xml", "XML 文档", "an XML document")
SVG = Kind("svg", "image/svg+xml", "SVG 图形", "an SVG image")
PHP = Kind("php", "application/x-httpd-php", "PHP 脚本", "a PHP script")
TEXT = Kind("text", "text/plain", "纯文本（不是逐行一致分隔的 CSV）", "plain text (not consistently delimited CSV)")
UNKNOWN = Kind("unknown", "application/octet-stream", "无法识别的二进制文件", "an unrecognised binary file")

ALLOWED: tuple[Kind, ...] = (PDF, JPEG, PNG, OFD, DOCX, XLSX, CSV_UTF8, CSV_GB18030, ZIP)
_ALLOWED_NAMES = ("PDF", "JPEG", "PNG", "OFD", "DOCX", "XLSX", "CSV", "ZIP")

_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"MZ", EXE),
    (b"\x7fELF", ELF),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"Rar!\x1a\x07", RAR),
    (b"7z\xbc\xaf\x27\x1c", SEVEN_ZIP),
    (b"\x1f\x8b", GZIP),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

HEAD = 4096
TEXT_WINDOW = 64 * 1024  # CSV is judged on its first 64 KB
# A document's central directory is a few KB; a larger one is listed by no one (an archive of many files is a ZIP).
MAX_DIRECTORY = 4 * 1024 * 1024
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_DELIMITERS = (",", "\t", ";", "|")


def sniff(fh: BinaryIO) -> Kind:
    """The kind of the file `fh` holds (seekable, read from its start); `Kind.allowed` says if it may be kept."""
    fh.seek(0)
    head = fh.read(HEAD)
    if not head:
        return EMPTY
    if head.startswith(_ZIP_MAGIC):
        return _zip_kind(fh)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[8:12] == b"WEBP" and head.startswith(b"RIFF"):
        return WEBP
    return _text_kind(fh)


def _directory_size(fh: BinaryIO) -> int | None:
    """The central directory's size from the end-of-central-directory record; None if there is none."""
    end = fh.seek(0, io.SEEK_END)
    tail_start = max(0, end - (_EOCD_SIZE + 0xFFFF))  # the record, then a comment of up to 64 KB
    fh.seek(tail_start)
    tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        return None
    (size,) = struct.unpack("<I", tail[at + 12 : at + 16])
    return int(size)


def _zip_kind(fh: BinaryIO) -> Kind:
    size = _directory_size(fh)
    if size is None:
        return BAD_ZIP
    if size > MAX_DIRECTORY:  # (also ZIP64's 0xFFFFFFFF) far beyond any OFD or Office file
        return ZIP
    fh.seek(0)
    try:
        with zipfile.ZipFile(fh) as archive:  # reads only the central directory; nothing is decompressed
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return BAD_ZIP
    if "OFD.xml" in names:
        return OFD
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
    return ZIP


def _decode(window: bytes, complete: bool) -> tuple[str, Kind] | None:
    for encoding, kind in (("utf-8-sig", CSV_UTF8), ("gb18030", CSV_GB18030)):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            # final=False: a character cut by the window's edge is not an error.
            return decoder.decode(window, final=complete), kind
        except UnicodeDecodeError:
            continue
    return None


def _markup(text: str) -> Kind | None:
    start = text.lstrip().lower()[:1024]
    if not start.startswith("<"):
        return None
    if start.startswith("<?php"):
        return PHP
    if start.startswith("<?xml"):
        return SVG if "<svg" in start else XML
    if start.startswith("<svg"):
        return SVG
    return HTML


def _text_kind(fh: BinaryIO) -> Kind:
    fh.seek(0)
    window = fh.read(TEXT_WINDOW + 1)
    complete = len(window) <= TEXT_WINDOW
    window = window[:TEXT_WINDOW]
    if b"\x00" in window:
        return UNKNOWN
    decoded = _decode(window, complete)
    if decoded is None:
        return UNKNOWN
    text, csv_kind = decoded
    markup = _markup(text)
    if markup is not None:
        return markup
    return csv_kind if _consistent_rows(text, complete) is not None else TEXT


def delimiter(fh: BinaryIO) -> str | None:
    """The delimiter under which the CSV in `fh` has consistent rows (judged on its first 64 KB, as `sniff` does)."""
    fh.seek(0)
    window = fh.read(TEXT_WINDOW + 1)
    complete = len(window) <= TEXT_WINDOW
    decoded = _decode(window[:TEXT_WINDOW], complete)
    return None if decoded is None else _consistent_rows(decoded[0], complete)


def _consistent_rows(text: str, complete: bool) -> str | None:
    """The delimiter giving at least two rows, all with the same number (≥ 2) of fields; None if none does."""
    for delimiter in _DELIMITERS:
        if delimiter not in text:
            continue
        try:
            rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not complete:
            rows = rows[:-1]  # the window may have cut the last row
        widths = {len(row) for row in rows}
        if len(rows) >= 2 and len(widths) == 1 and widths.pop() >= 2:
            return delimiter
    return None


def refusal(kind: Kind, lang: str = "zh") -> str:
    """Why a file of this kind is not kept, naming what was detected and what is allowed."""
    if kind is EMPTY:  # nothing to type: say so, not "type not allowed" alone
        if lang == "zh":
            return f"文件为空（0 字节，{kind.content_type}）；请选择要上传的文件"
        return f"the file is empty (0 bytes, {kind.content_type}); choose the file to upload"
    if lang == "zh":
        return f"不支持的文件类型：检测到{kind.zh}（{kind.content_type}）；仅接受 {'、'.join(_ALLOWED_NAMES)}"
    return f"file type not allowed: detected {kind.en} ({kind.content_type}); allowed: {', '.join(_ALLOWED_NAMES)}"


__all__ = ["ALLOWED", "Kind", "delimiter", "refusal", "sniff"]
