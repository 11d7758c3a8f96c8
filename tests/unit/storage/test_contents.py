"""storage.contents with small limits: one budget across nested archives, what the headers may not hide, GBK names,
and which CSV cells are formulas."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from storage import contents, sniff
from tests.support import corpus

SMALL = contents.Limits(entries=20, expanded=5 * corpus.MB, ratio=100, ratio_from=64 * 1024, depth=3)


def check(data: bytes, limits: contents.Limits = contents.LIMITS) -> contents.Contents:
    fh = io.BytesIO(data)
    return contents.check(fh, sniff.sniff(fh), limits)


def code_of(data: bytes, limits: contents.Limits = contents.LIMITS) -> str:
    with pytest.raises(contents.Refused) as refused:
        check(data, limits)
    return refused.value.code


def test_nested_archives_share_one_budget():
    inner = corpus.zipped({"扫描.pdf": b"%PDF-1.7\n" + os.urandom(corpus.MB)}, zipfile.ZIP_STORED)
    assert check(corpus.zipped({"a.zip": inner, "b.zip": inner}), SMALL).expanded > 4 * corpus.MB  # each counted twice
    # Each inner archive alone is within the limit; together, counted as extracted, they are not.
    assert code_of(corpus.zipped({f"{n}.zip": inner for n in range(3)}, zipfile.ZIP_STORED), SMALL) == "zip_bomb"


def test_entries_are_counted_across_nesting():
    inner = corpus.zipped({f"{n}.txt": b"x" for n in range(12)})
    assert code_of(corpus.zipped({"a.zip": inner, "b.zip": inner}), SMALL) == "zip_entries"


def test_a_crc_that_lies_is_refused_though_the_size_is_true():
    data = bytearray(corpus.zipped({"a.pdf": corpus.SAMPLE_PDF}))
    at = data.index(b"PK\x01\x02") + 16  # the central directory's CRC
    data[at] ^= 0xFF
    assert code_of(bytes(data)) == "zip_damaged"


def test_a_local_name_that_differs_from_the_directory_is_refused():
    # A streaming extractor reads the local header: "../evil.sh" there, "ok/evil.sh" in the directory.
    data = corpus.zipped({"ok/evil.sh": b"#!/bin/sh\n"})
    first = data.index(b"ok/evil.sh")
    data = data[:first] + b"../evil.sh" + data[first + 10 :]
    assert code_of(data) == "zip_damaged"


def test_a_gbk_name_whose_second_byte_is_a_backslash_is_one_name():
    name = "申报材料/表格.pdf"  # 表 is B1 ED in GBK; 俓 below ends in 0x5C, a backslash read as CP437
    tricky = "俓.pdf"
    assert tricky.encode("gbk")[1:2] == b"\\"
    data = corpus.with_raw_names({name.encode("gbk"): corpus.SAMPLE_PDF, tricky.encode("gbk"): corpus.SAMPLE_PDF})
    assert check(data).names == [name, tricky]


def test_a_utf8_name_without_the_flag_is_read_as_utf8():
    data = corpus.with_raw_names({"节能报告.pdf".encode(): corpus.SAMPLE_PDF})
    assert check(data).names == ["节能报告.pdf"]


def test_the_ratio_applies_only_past_its_threshold():
    small = corpus.zipped({"blank.txt": b" " * 60 * 1024})  # ~1000:1, but only 60 KB
    assert check(small, SMALL).expanded == 60 * 1024
    assert code_of(corpus.zipped({"blank.txt": b" " * 200 * 1024}), SMALL) == "zip_bomb"


@pytest.mark.parametrize(
    "cell,formula",
    [
        ("=1+1", True),
        ("  =1+1", True),
        ("\t=1+1", True),
        ("@SUM(A1)", True),
        ("+cmd|' /C calc'!A0", True),
        ("-2+3+cmd|' /C calc'!A0", True),
        ('+HYPERLINK("x")', True),
        ("-12.5", False),
        ("+3%", False),
        ("1,234.5", False),
        ("-", False),
        ("--", False),
        ("- 备注", False),
        ("电表", False),
        ("a=b", False),
    ],
)
def test_which_cells_are_formulas(cell, formula):
    assert contents.formula_like(cell) is formula


def test_a_tab_separated_csv_is_read_with_its_delimiter():
    data = "名称\t数量\n电表\t=1+1\n".encode()
    assert code_of(data) == "csv_formula"
    assert check("名称\t说明\n电表\t含税, 单价=100\n".encode()).names == []


class Counted(io.BytesIO):
    """The upload's file, counting the bytes read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.bytes_read += len(data)
        return data


def test_headers_that_already_say_too_much_are_refused_before_anything_is_inflated():
    # Ratios of about 1:1 (random bytes), so only the declared total can say no, and it says so from the directory.
    data = corpus.zipped({f"{n}.bin": os.urandom(2 * corpus.MB) for n in range(3)}, zipfile.ZIP_STORED)
    fh = Counted(data)
    with pytest.raises(contents.Refused) as refused:
        contents.check(fh, sniff.ZIP, SMALL)
    assert refused.value.code == "zip_bomb"
    assert fh.bytes_read < 128 * 1024, fh.bytes_read  # the end record and the directory; no entry's bytes


def test_entries_after_a_nested_archive_still_count_against_the_budget():
    # Each archive's headers are within the budget when it is opened; only counting what is inflated catches it.
    inner = corpus.zipped({"扫描.pdf": os.urandom(int(1.2 * corpus.MB))}, zipfile.ZIP_STORED)
    outer = corpus.zipped({"a.zip": inner, "big.bin": os.urandom(3 * corpus.MB)}, zipfile.ZIP_STORED)
    assert code_of(outer, SMALL) == "zip_bomb"


def test_an_office_file_inside_a_zip_gets_the_office_rules():
    assert code_of(corpus.zipped({"材料/报告.docx": corpus.DOCX_VBA})) == "office_macro"
    assert code_of(corpus.zipped({"材料/报告.docx": corpus.DOCX_XXE})) == "xml_doctype"
    assert check(corpus.zipped({"材料/报告.docx": corpus.DOCX})).names[-1] == "材料/报告.docx/word/document.xml"


def test_a_name_twice_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("报告.pdf", corpus.SAMPLE_PDF)
        archive.writestr("报告.pdf", b"%PDF-1.7\nother")  # an extractor keeps one of the two, unseen
    assert code_of(out.getvalue()) == "zip_damaged"


def test_what_cannot_be_read_cannot_be_checked():
    encrypted = bytearray(corpus.zipped({"a.pdf": corpus.SAMPLE_PDF}))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the "encrypted" flag, in both headers
        at = encrypted.index(header) + (6 if header == b"PK\x03\x04" else 8)
        encrypted[at] |= 0x01
    assert code_of(bytes(encrypted)) == "zip_encrypted"
    assert code_of(corpus.zipped({"a.pdf": corpus.SAMPLE_PDF}, zipfile.ZIP_BZIP2)) == "zip_method"


def test_an_xml_prolog_padded_past_its_window_is_refused():
    padded = b'<?xml version="1.0"?>\n<!--' + b"x" * (70 * 1024) + b"-->" + corpus.DOCUMENT % b"x"
    assert code_of(corpus.docx(padded)) == "xml_doctype"


def test_an_excel_macro_sheet_is_a_macro():
    sheet = b'<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
    data = corpus.zipped(
        {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", "xl/macrosheets/sheet1.xml": sheet}
    )
    assert code_of(data) == "office_macro"
