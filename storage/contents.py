"""What is inside an upload that `sniff` let through, read once from disk with a bound: the rules that refuse it.

- A PDF or image with web markup (``<html``, ``<script``, ``<?php`` …) in its first 64 KB is a polyglot: a browser
  that sniffs, or a server that runs PHP, would take it for something else. Refused.
- A CSV whose cells a spreadsheet would run as formulas (``=…``, ``@…``, ``+cmd|…``) is refused: the reviewer opens
  the applicant's own bytes, which cannot be escaped without changing their hash.
- A ZIP, DOCX, XLSX or OFD is read entry by entry — never extracted, never trusted from its headers alone: every
  entry is inflated in 64 KB chunks and counted, so a lying header fails its CRC and a bomb stops at the bound.
  Bounded: entries, total inflated bytes (nested archives included), each entry's compression ratio, nesting.
  Refused: names with ``..``, absolute paths, drive letters, control characters, symlinks, duplicates, overlapping
  entries, encrypted entries; names without the UTF-8 flag that are neither UTF-8 nor GB18030 (never stored as
  mojibake); in Office and OFD packages a DOCTYPE (XXE) in any XML part, and macros (``vbaProject.bin``, macro-enabled
  or macro-sheet content types).

Memory stays within a few chunks: a nested archive is spooled to a temporary file past 1 MB.
"""

from __future__ import annotations

import csv
import io
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from storage import sniff
from storage.sniff import Kind

CHUNK = 64 * 1024
MARKUP_WINDOW = 64 * 1024
PROLOG = 64 * 1024  # an XML part's prolog (where a DOCTYPE must stand) is a few hundred bytes in any real file
SPOOL = 1024 * 1024
# The central directory is parsed into memory by zipfile: 10,000 entries with long Chinese paths fit in 2 MB.
MAX_DIRECTORY = 2 * 1024 * 1024
_EOCD = b"PK\x05\x06"
_LOCAL = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    """What a ZIP-based upload may expand to; nested archives share one budget."""

    entries: int = 10_000
    expanded: int = 1024 * 1024 * 1024  # 1 GiB inflated in all, archives inside archives included
    ratio: int = 100  # per entry, once it passes `ratio_from` bytes (Apache POI's zip-bomb rule is the same 1:100)
    ratio_from: int = 1024 * 1024
    depth: int = 3  # the upload, an archive in it, one more inside that


LIMITS = Limits()


class Refused(Exception):
    """An upload that breaks a rule: `code` for machines, the rule in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en

    def message(self, filename: str, lang: str = "zh") -> str:
        if lang == "zh":
            return f"“{filename}”未接收：{self.zh}"
        return f"“{filename}” was not accepted: {self.en}"


@dataclass
class Contents:
    """What an archive held: every entry's decoded path (nested ones as ``outer.zip/inner``) and the bytes."""

    names: list[str] = field(default_factory=list)
    expanded: int = 0


def shown_name(raw: str | None) -> str:
    """The client's file name as it may be shown in a refusal: no path, no control or bidi characters, short."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C")).strip()
    return name[:100] or "附件"


def check(fh: BinaryIO, kind: Kind, limits: Limits = LIMITS) -> Contents:
    """Raise `Refused` if the file of this (allowed) kind breaks a rule; an archive's contents otherwise."""
    if kind in (sniff.PDF, sniff.JPEG, sniff.PNG):
        _no_markup(fh)
    elif kind in (sniff.CSV_UTF8, sniff.CSV_GB18030):
        _no_formulas(fh, kind)
    elif kind in (sniff.ZIP, sniff.DOCX, sniff.XLSX, sniff.OFD):
        contents = Contents()
        _archive(fh, kind, "", contents, limits, depth=1)
        return contents
    return Contents()


# --- polyglots ------------------------------------------------------------------------------------------------

_MARKUP = re.compile(rb"<(?:html|script|body|iframe|object|embed|svg|\?php)\b|<!doctype\s+html", re.IGNORECASE)


def _no_markup(fh: BinaryIO) -> None:
    fh.seek(0)
    head = fh.read(MARKUP_WINDOW).replace(b"\x00", b"")  # UTF-16 markup is markup too
    found = _MARKUP.search(head)
    if found is not None:
        tag = found.group(0).decode("ascii", "replace")
        raise Refused(
            "polyglot",
            f"文件开头含有网页或脚本标记（{tag}），可能被当作网页或脚本执行；请上传普通的 PDF 或图片",
            f"its first bytes hold web or script markup ({tag}) that a browser or server could run; "
            "upload a plain PDF or image",
        )


# --- formulas in a CSV ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\s*(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")
_FORMULA_PART = re.compile(r"[(|!]|^[+-]\s*[A-Za-z_]")


def formula_like(cell: str) -> bool:
    """Text a spreadsheet would run: = or @ first (after blanks), or + / - that is not a number but a call or DDE."""
    text = cell.lstrip(" \t\r\n")
    if not text or text in ("+", "-", "--", "@"):
        return False
    if text[0] in "=@":
        return True
    if text[0] in "+-":
        return _NUMBER.fullmatch(text) is None and _FORMULA_PART.search(text) is not None
    return False


def _no_formulas(fh: BinaryIO, kind: Kind) -> None:
    encoding = "utf-8-sig" if kind is sniff.CSV_UTF8 else "gb18030"
    fh.seek(0)
    delimiter = sniff.delimiter(fh) or ","
    fh.seek(0)
    text = io.TextIOWrapper(_Unclosable(fh), encoding=encoding, errors="replace", newline="")
    try:
        for line, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            for column, value in enumerate(row, start=1):
                if formula_like(value):
                    shown = value.strip()[:40]
                    raise Refused(
                        "csv_formula",
                        f"第 {line} 行第 {column} 列“{shown}”以公式符号开头，电子表格打开时会当作公式执行；"
                        "请删去开头的 = + - @，或在前面加一个英文单引号",
                        f"row {line}, column {column} (“{shown}”) starts like a formula that a spreadsheet would run; "
                        "remove the leading = + - @ or put an apostrophe before it",
                    )
    except csv.Error as exc:
        raise Refused(
            "csv_malformed", f"CSV 无法逐行读取：{exc}", f"the CSV cannot be read row by row: {exc}"
        ) from None
    finally:
        text.detach()


class _Unclosable(io.RawIOBase):
    """The upload's file, readable by a text wrapper that must not close it."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.fh.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --- archives -------------------------------------------------------------------------------------------------

_OFFICE = (sniff.DOCX, sniff.XLSX)
_XML_PARTS = (".xml", ".rels", ".vml")
_MACRO_NAMES = ("vbaproject.bin", "vbaprojectsignature.bin", "vbadata.xml")
_MACRO_TYPES = (b"macroenabled", b"vbaproject", b"macrosheet", b"ms-excel.intl-macrosheet")
_ROOT = re.compile(rb"<[A-Za-z_:\x80-\xff]")
_DOCTYPE = re.compile(rb"<!(?:doctype|entity)", re.IGNORECASE)


def _damaged(why: str) -> Refused:
    return Refused(
        "zip_damaged", f"压缩包已损坏或前后不一致（{why}）", f"the archive is damaged or inconsistent ({why})"
    )


def _too_big(path: str, limits: Limits) -> Refused:
    mb = limits.expanded / 2**20
    return Refused(
        "zip_bomb",
        f"{_where(path)}解压后超过 {mb:g} MB 的上限（压缩炸弹）",
        f"{f'“{path}” inside it' if path else 'it'} expands past the limit of {mb:g} MB (a zip bomb)",
    )


def _where(path: str) -> str:
    return f"其中的“{path}”" if path else "压缩包"


def _directory(fh: BinaryIO) -> tuple[int, int]:
    """(entries, central directory size) from the end record, before zipfile reads the directory into memory."""
    end = fh.seek(0, io.SEEK_END)
    fh.seek(max(0, end - (22 + 0xFFFF)))
    tail = fh.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _damaged("no end of central directory")
    entries, size = struct.unpack("<HI", tail[at + 10 : at + 16])
    return entries, size


def _archive(fh: BinaryIO, kind: Kind, path: str, contents: Contents, limits: Limits, depth: int) -> None:
    entries, size = _directory(fh)
    if entries > limits.entries or size > MAX_DIRECTORY:  # ZIP64's 0xFFFF/0xFFFFFFFF land here too
        raise _too_many(limits)
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)  # reads the central directory only
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise _damaged(str(exc)) from None
    with archive:
        infos = archive.infolist()
        if len(contents.names) + len(infos) > limits.entries:
            raise _too_many(limits)
        names = [_name(info, path) for info in infos]
        _one_each(names)
        _no_overlap(infos, archive.start_dir)
        declared = sum(info.file_size for info in infos)
        if contents.expanded + declared > limits.expanded:  # the headers alone already say so
            raise _too_big(path, limits)
        for info, name in zip(infos, names, strict=True):
            if info.file_size > limits.ratio_from and info.file_size > limits.ratio * max(info.compress_size, 1):
                raise _ratio(f"{path}/{name}" if path else name, limits)
            if kind in _OFFICE and name.lower().rsplit("/", 1)[-1] in _MACRO_NAMES:
                raise _macro(name)
            if kind in _OFFICE and name.lower().startswith("xl/macrosheets/"):
                raise _macro(name)
        contents.names.extend(f"{path}/{n}" if path else n for n in names)
        for info, name in zip(infos, names, strict=True):
            if not info.is_dir():
                _entry(fh, info, kind, f"{path}/{name}" if path else name, contents, limits, depth)


def _too_many(limits: Limits) -> Refused:
    return Refused(
        "zip_entries",
        f"压缩包中的文件超过 {limits.entries} 个（或目录过大）",
        f"the archive holds more than {limits.entries} entries (or its directory is too large)",
    )


def _ratio(name: str, limits: Limits) -> Refused:
    return Refused(
        "zip_bomb",
        f"其中的“{name}”压缩比超过 {limits.ratio}:1（压缩炸弹）",
        f"“{name}” inside it is compressed more than {limits.ratio}:1 (a zip bomb)",
    )


def _macro(name: str) -> Refused:
    return Refused(
        "office_macro",
        f"文档含有宏（{name}）；请另存为不含宏的 DOCX/XLSX 后上传",
        f"the document carries macros ({name}); save it as a DOCX/XLSX without macros",
    )


def _name(info: zipfile.ZipInfo, path: str) -> str:
    """The entry's name decoded as its writer meant it (UTF-8 flag, else UTF-8 or GB18030), and safe to extract."""
    if info.flag_bits & 0x800:
        name = info.orig_filename
    else:
        raw = info.orig_filename.encode("cp437")  # zipfile decoded the raw bytes as CP437; undo it
        name = ""
        for encoding in ("ascii", "utf-8", "gb18030"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            shown = raw.hex(" ")[:60]
            raise Refused(
                "zip_name_encoding",
                f"{_where(path)}中有文件名既不是 UTF-8 也不是 GBK/GB18030 编码（字节 {shown}）；"
                "请用 UTF-8 文件名重新压缩",
                f"an entry's name is neither UTF-8 nor GBK/GB18030 (bytes {shown}); re-create the archive with "
                "UTF-8 names",
            )
    shown = name.encode("unicode_escape").decode("ascii")[:80] if not name.isprintable() else name[:80]
    parts = name.replace("\\", "/").split("/")
    unsafe = (
        name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name) is not None
        or ".." in parts
        or any(unicodedata.category(ch) == "Cc" for ch in name)
        or stat.S_ISLNK(info.external_attr >> 16)
    )
    if unsafe:
        raise Refused(
            "zip_path",
            f"{_where(path)}中有不安全的路径“{shown}”（.. 、绝对路径、盘符、控制字符或符号链接），"
            "解压时可能写到目录之外",
            f"an entry has an unsafe path “{shown}” (.., absolute, a drive, control characters or a symlink) that "
            "could write outside the folder it is extracted to",
        )
    return name


def _one_each(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        key = unicodedata.normalize("NFC", name.replace("\\", "/")).lower()
        if key in seen:
            raise _damaged(f"“{name}” appears twice")
        seen.add(key)


def _no_overlap(infos: list[zipfile.ZipInfo], directory_start: int) -> None:
    """Entries that share their bytes (a non-recursive zip bomb) or run into the central directory."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for this, after in zip(ordered, [*ordered[1:], None], strict=True):
        end = after.header_offset if after is not None else directory_start
        if this.header_offset + this.compress_size >= end:
            raise _damaged(f"entries overlap at byte {this.header_offset}")


def _entry(
    fh: BinaryIO,
    info: zipfile.ZipInfo,
    kind: Kind,
    name: str,
    contents: Contents,
    limits: Limits,
    depth: int,
) -> None:
    """Inflate one entry in chunks, counting what it really holds; check its XML prolog, or the archive inside it."""
    xml = kind in (*_OFFICE, sniff.OFD) and name.lower().endswith(_XML_PARTS)
    types = kind in _OFFICE and name.rsplit("/", 1)[-1] == "[Content_Types].xml"
    head = bytearray()
    spool: IO[bytes] | None = None
    read = 0
    tail = b""
    try:
        for chunk in _chunks(fh, info):
            read += len(chunk)
            contents.expanded += len(chunk)
            if contents.expanded > limits.expanded:
                raise _too_big(name, limits)
            if read > limits.ratio_from and read > limits.ratio * max(info.compress_size, 1):
                raise _ratio(name, limits)
            if len(head) < PROLOG:
                head.extend(chunk[: PROLOG - len(head)])
                if read == len(chunk) and chunk.startswith(_LOCAL):  # an archive inside this one
                    if depth >= limits.depth:
                        raise Refused(
                            "zip_nested",
                            f"压缩包嵌套超过 {limits.depth} 层（“{name}”）",
                            f"archives are nested more than {limits.depth} deep (“{name}”)",
                        )
                    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - closed in finally
            if spool is not None:
                spool.write(chunk)
            if types:
                window = (tail + chunk).lower()
                found = next((t for t in _MACRO_TYPES if t in window), None)
                if found is not None:
                    raise _macro(f"[Content_Types].xml: {found.decode()}")
                tail = window[-64:]
        if xml:
            _prolog(bytes(head), name, complete=read <= PROLOG)
        if spool is not None:
            inner = sniff.sniff(spool)  # type: ignore[arg-type]
            if inner not in (sniff.ZIP, sniff.DOCX, sniff.XLSX, sniff.OFD):
                raise _damaged(f"“{name}” looks like an archive but is not one")
            _archive(spool, inner, name, contents, limits, depth + 1)  # type: ignore[arg-type]
    finally:
        if spool is not None:
            spool.close()


def _chunks(fh: BinaryIO, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry inflated from its own bytes, not zipfile's reader (which stops at the size the header declares):
    a stream that holds more than its header says, or another CRC, or another name in its local header, is refused
    at the first byte too many — the lie a streaming extractor would believe."""
    if info.flag_bits & 0x1:
        raise Refused(
            "zip_encrypted",
            f"压缩包中的“{info.orig_filename}”已加密，无法检查；请上传未加密的文件",
            f"“{info.orig_filename}” inside it is encrypted and cannot be checked; upload it unencrypted",
        )
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Refused(
            "zip_method",
            f"压缩包使用了不支持的压缩方式（{info.compress_type}）；请用常见的 ZIP（Deflate）格式重新压缩",
            f"the archive uses a compression method that is not checked ({info.compress_type}); re-create it as a "
            "plain (Deflate) ZIP",
        )
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or not local.startswith(_LOCAL):
        raise _damaged(f"no local header for “{info.orig_filename}”")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw_name = fh.read(name_length)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if raw_name != info.orig_filename.encode(encoding):  # a streaming extractor would use the local name
        raise _damaged(f"“{info.orig_filename}” has another name in its local header")
    fh.seek(extra_length, io.SEEK_CUR)
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left, size, crc = info.compress_size, 0, 0
    try:
        while True:
            if inflate is not None and inflate.unconsumed_tail:
                data = inflate.unconsumed_tail
            elif left > 0:
                data = fh.read(min(CHUNK, left))
                if not data:
                    raise _damaged(f"“{info.orig_filename}” is cut short")
                left -= len(data)
            else:
                data = b""
            out = data if inflate is None else inflate.decompress(data, CHUNK)
            if out:
                size += len(out)
                if size > info.file_size:
                    raise _damaged(f"“{info.orig_filename}” holds more than the {info.file_size} bytes it declares")
                crc = zlib.crc32(out, crc)
                yield out
            if (inflate is not None and inflate.eof) or not (out or data):
                break
    except zlib.error as exc:
        raise _damaged(f"“{info.orig_filename}”: {exc}") from None
    if (inflate is not None and not inflate.eof) or size != info.file_size or crc != info.CRC:
        raise _damaged(f"“{info.orig_filename}” does not match its size or CRC")


def _prolog(head: bytes, name: str, complete: bool) -> None:
    """A DOCTYPE (or an entity) before the root element of an XML part: the shape of every XXE; refused."""
    text = head.replace(b"\x00", b"")  # UTF-16 and UTF-32 prologs read as ASCII once the zero bytes go
    root = _ROOT.search(text)
    before = text[: root.start()] if root is not None else text
    if _DOCTYPE.search(before) is not None:
        raise Refused(
            "xml_doctype",
            f"文档的“{name}”含有 DOCTYPE 声明（可引用外部实体，XXE）；正常的 Office/OFD 文档不含它",
            f"“{name}” in the document declares a DOCTYPE (external entities, XXE); real Office/OFD files have none",
        )
    if root is None and not complete:
        raise Refused(
            "xml_doctype",
            f"文档的“{name}”开头 {PROLOG // 1024} KB 内没有根元素",
            f"“{name}” in the document has no root element in its first {PROLOG // 1024} KB",
        )


__all__ = ["LIMITS", "Contents", "Limits", "Refused", "check", "formula_like", "shown_name"]
