"""Attachment operations: the streaming receiver, names, versions and audit, and the required-attachments guard."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from applications.attachments import AttachmentRulesError, attachments_of, required_categories, rules_for, upload
from applications.models import Attachment, category_label
from storage import sniff
from storage.blobs import BlobStore, LocalBlobStore, S3BlobStore, Staged, from_url
from storage.multipart import UploadTooLarge, blob_key, clean_filename, content_disposition, receive
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.definitions import parse, shipped
from workflow.engine import fire
from workflow.errors import Forbidden, GuardFailed, InvalidInput, NotAllowedNow, NotFound
from workflow.models import AuditEvent

EMC_BASE = [
    "business_licence",
    "equipment_list",
    "construction_contract",
    "completion_report",
    "investment_proof",
    "authenticity_commitment",
    "credit_authorisation",
]


def body(fields: dict[str, object]) -> tuple[bytes, bytes]:
    boundary, data = encode_multipart(fields)
    return data, boundary.encode()


class CountingStream(io.BytesIO):
    """A request body that records how much of it was read."""

    consumed = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.consumed += len(data)
        return data


# --- receiving ------------------------------------------------------------------------------------------------


def test_receive_streams_the_file_to_disk_with_its_hash_and_size():
    data = b"%PDF-1.7\n" + bytes(range(256)) * 4000
    raw, boundary = body({"category": "other", "file": FileStorage(io.BytesIO(data), "扫描件.pdf")})
    with receive(io.BytesIO(raw), boundary, max_bytes=len(data), chunk=4096) as received:
        assert received.fields == {"category": "other"}
        assert (received.filename, received.size) == ("扫描件.pdf", len(data))
        assert received.sha256 == hashlib.sha256(data).hexdigest()
        assert received.file is not None
        received.file.seek(0)
        assert received.file.read() == data


def test_receive_stops_reading_as_soon_as_the_file_passes_the_limit():
    raw, boundary = body({"category": "other", "file": FileStorage(io.BytesIO(b"x" * 10_000_000), "big.pdf")})
    stream = CountingStream(raw)
    with pytest.raises(UploadTooLarge) as refused:
        receive(stream, boundary, max_bytes=1_000_000, chunk=64 * 1024)
    assert stream.consumed < 1_200_000  # the limit and one chunk, not the other 9 MB
    assert refused.value.status == 413 and refused.value.code == "too_large"
    assert refused.value.extra["errors"][0]["field"] == "file"


@pytest.mark.parametrize("cut", [10, 200, -30])
def test_a_body_cut_short_is_refused(cut):
    raw, boundary = body({"category": "other", "file": FileStorage(io.BytesIO(b"%PDF-" + b"y" * 500), "a.pdf")})
    with pytest.raises(InvalidInput) as refused:
        receive(io.BytesIO(raw[:cut]), boundary, max_bytes=10_000)
    assert refused.value.problems[0].code == "malformed"


def test_only_one_file_part_named_file_is_accepted():
    two = {"file": FileStorage(io.BytesIO(b"%PDF-1"), "a.pdf"), "extra": FileStorage(io.BytesIO(b"%PDF-2"), "b.pdf")}
    raw, boundary = body(two)
    with pytest.raises(InvalidInput, match="exactly one file"):
        receive(io.BytesIO(raw), boundary, max_bytes=10_000)


def test_headers_without_end_are_not_buffered_without_limit():
    raw = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nX: ' + b"h" * 2_000_000
    with pytest.raises(InvalidInput, match=r"headers .* too long"):
        receive(io.BytesIO(raw), b"b", max_bytes=10_000_000, chunk=64 * 1024)


# --- names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,kind,expected",
    [
        ("营业执照.pdf", sniff.PDF, "营业执照.pdf"),
        ("C:\\Users\\张三\\Desktop\\合同.PDF", sniff.PDF, "合同.PDF"),
        ("../../etc/passwd", sniff.PDF, "passwd.pdf"),
        ("scan.html", sniff.PDF, "scan.html.pdf"),  # the name must say what the bytes are
        ("invoice\u202efdp.exe", sniff.PDF, "invoicefdp.exe.pdf"),  # no right-to-left override tricks
        ("photo.jpeg", sniff.JPEG, "photo.jpeg"),
        ("", sniff.XLSX, "附件.xlsx"),
        (None, sniff.CSV_GB18030, "附件.csv"),
        ("  .hidden  ", sniff.PNG, "hidden.png"),
    ],
)
def test_filenames_are_cleaned_for_display(raw, kind, expected):
    assert clean_filename(raw, kind) == expected


def test_long_names_keep_their_extension():
    name = clean_filename("设" * 500 + ".docx", sniff.DOCX)
    assert len(name) == 200 and name.endswith(".docx")


def test_content_disposition_is_an_attachment_with_the_utf8_name():
    header = content_disposition("营业执照 (2025).pdf")
    assert header.startswith("attachment; ")
    assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%282025%29.pdf" in header
    assert 'filename="2025).pdf"' not in header and 'filename="(2025).pdf"' in header
    assert 'filename="a_b.csv"' in content_disposition('a"b.csv')


# --- the operation --------------------------------------------------------------------------------------------


def test_a_reupload_is_a_new_version_and_supersedes_the_old_one(app, cast):
    app_id = factories.new_application(cast, attach=False)
    first = factories.upload(app, cast, app_id, "equipment_list", b"a,b\n1,2\n", "设备清单.csv")
    second = factories.upload(app, cast, app_id, "equipment_list", b"a,b\n1,2\n3,4\n", "设备清单v2.csv")
    assert (first.version, second.version) == (1, 2)
    with db.transaction() as session:
        current = attachments_of(session, cast.applicant, app_id)
        every = attachments_of(session, cast.applicant, app_id, all_versions=True)
    assert [(a.id, a.version) for a in current] == [(second.id, 2)]
    assert {(a.id, a.current) for a in every} == {(first.id, False), (second.id, True)}


def test_each_upload_is_audited_in_the_chain(app, cast):
    app_id = factories.new_application(cast, attach=False)
    row = factories.upload(app, cast, app_id, "business_licence", filename="营业执照.pdf")
    with db.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == app_id, AuditEvent.outcome == "attached")
        ).all()
    assert len(events) == 1
    assert events[0].payload == {
        "attachment_id": row.id,
        "category": "business_licence",
        "filename": "营业执照.pdf",
        "content_type": "application/pdf",
        "sha256": row.sha256,
        "size": row.size,
        "version": 1,
    }
    assert events[0].actor_id == cast.applicant.id


@pytest.mark.parametrize(
    "who,error",
    [("other_applicant", NotFound), ("other_district_reviewer", NotFound), ("district_reviewer", Forbidden)],
)
def test_only_the_applicant_may_upload_and_refusals_are_audited(app, cast, who, error):
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "completeness_check")
    with pytest.raises(error):
        factories.upload(app, cast, app_id, "other", actor=getattr(cast, who))
    with db.transaction() as session:
        denied = session.scalars(
            select(AuditEvent).where(AuditEvent.application_id == app_id, AuditEvent.outcome == "denied")
        ).all()
        others = select(Attachment).where(Attachment.application_id == app_id, Attachment.category == "other")
        assert session.scalars(others).all() == []
    assert [(e.trigger, e.actor_id) for e in denied] == [("attach", getattr(cast, who).id)]


def test_the_applicant_uploads_in_editable_states_and_for_a_supplement_not_under_review(app, cast):
    app_id = factories.new_application(cast)
    factories.upload(app, cast, app_id, "other")  # draft
    fire(app_id, "submit", cast.applicant)
    with pytest.raises(NotAllowedNow) as refused:
        factories.upload(app, cast, app_id, "other")
    assert refused.value.state == "district_review"
    fire(app_id, "return_for_correction", cast.district_reviewer, {"comment": "补盖章页"})
    assert factories.upload(app, cast, app_id, "other", factories.SAMPLE_PDF + b"% corrected\n").version == 2
    factories.drive_to(cast, app_id, "supplement_requested")
    assert factories.upload(app, cast, app_id, "supplement").version == 1


# --- staging: received into the store's own temporary file ---------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def own_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """A store of this test's own (an empty folder, or a fresh bucket), so 'nothing left' can be checked whole."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return from_url(f"{request.getfixturevalue('s3_endpoint')}/emc-staging-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    """The folder the API hands over for staging (used by S3; the local folder stages inside its root)."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


def everything_in(store: BlobStore, tmp_dir: Path) -> list[str]:
    """Every object or file the store holds, and every file left in the upload folder."""
    if isinstance(store, S3BlobStore):
        held = [str(o.object_name) for o in store.client.list_objects(store.bucket, recursive=True)]
    else:
        assert isinstance(store, LocalBlobStore)
        held = [str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file()]
    return sorted(held + [f"tmp:{p.name}" for p in tmp_dir.iterdir()])


def upload_to(store: BlobStore, cast: factories.Cast, app_id: int, tmp_dir: Path, data: bytes, **kw: Any) -> Any:
    fields = {"category": "other", "csrf_token": "t0k3n", "file": FileStorage(io.BytesIO(data), "扫描件.pdf")}
    raw, boundary = body(fields)
    kw.setdefault("max_bytes", 10 * 2**20)
    stream = DiesHalfway(raw) if kw.pop("killed", False) else io.BytesIO(raw)
    return upload(cast.applicant, app_id, stream, boundary, store, tmp_dir=tmp_dir, extra_fields=("csrf_token",), **kw)


def test_an_upload_is_received_into_the_store_and_adopted_with_its_hash(app, cast, own_store, uploads, monkeypatch):
    app_id = factories.new_application(cast, attach=False)
    data = b"%PDF-1.7\n" + bytes(range(256)) * 30_000  # more than one S3 part
    inodes: list[int] = []
    real_staging = own_store.staging

    def staging(tmp_dir: Path | None = None) -> Staged:
        staged = real_staging(tmp_dir)
        inodes.append(os.fstat(staged.file.fileno()).st_ino)
        return staged

    monkeypatch.setattr(own_store, "staging", staging)
    seen: list[dict[str, str]] = []
    row = upload_to(own_store, cast, app_id, uploads, data, verify=seen.append)
    digest = hashlib.sha256(data).hexdigest()
    assert (row.sha256, row.size, row.blob_key) == (digest, len(data), blob_key(digest))
    assert seen == [{"category": "other", "csrf_token": "t0k3n"}]
    assert b"".join(own_store.open(row.blob_key)) == data
    assert everything_in(own_store, uploads) == [blob_key(digest)]  # no staged file left beside it
    assert len(inodes) == 1
    if isinstance(own_store, LocalBlobStore):  # written once: the very file received is the blob
        assert (own_store.root / row.blob_key).stat().st_ino == inodes[0]


def test_the_same_bytes_again_keep_one_version_and_one_blob(app, cast, own_store, uploads):
    app_id = factories.new_application(cast, attach=False)
    data = b"%PDF-1.7\n twice"
    first = upload_to(own_store, cast, app_id, uploads, data)
    second = upload_to(own_store, cast, app_id, uploads, data)
    assert (first.id, first.version, second.unchanged, first.unchanged) == (second.id, 1, True, False)
    assert everything_in(own_store, uploads) == [first.blob_key]


class DiesHalfway(io.BytesIO):
    """A client whose connection breaks once the first chunk of the file has been written."""

    def read(self, n: int | None = -1) -> bytes:
        if self.tell() > 200_000:
            raise ConnectionResetError("client went away")
        return super().read(n)


class BadToken(Exception):
    """What a page's `verify` raises (a CSRF error is not a workflow refusal)."""


def _refuse_token(fields: dict[str, str]) -> None:
    raise BadToken(fields.get("csrf_token"))


@pytest.mark.parametrize(
    "how,error",
    [
        ({"max_bytes": 100_000}, UploadTooLarge),
        ({"verify": _refuse_token}, BadToken),
        ({"data": b"MZ\x90\x00" + b"\x00" * 300_000}, InvalidInput),  # typed by its bytes: a program
        ({"killed": True}, ConnectionResetError),
    ],
    ids=["too_large", "csrf", "type", "killed"],
)
def test_a_refused_or_killed_upload_leaves_no_blob_and_no_staged_file(app, cast, own_store, uploads, how, error):
    app_id = factories.new_application(cast, attach=False)
    how = dict(how)
    data = how.pop("data", b"%PDF-1.7\n" + b"r" * 300_000)
    with pytest.raises(error):
        upload_to(own_store, cast, app_id, uploads, data, **how)
    assert everything_in(own_store, uploads) == []
    with db.transaction() as session:
        assert session.scalars(select(Attachment).where(Attachment.application_id == app_id)).all() == []


def test_a_store_that_fails_to_adopt_leaves_no_blob_and_no_staged_file(app, cast, tmp_path, uploads, monkeypatch):
    store = LocalBlobStore(tmp_path / "blobs")
    app_id = factories.new_application(cast, attach=False)

    def no_rename(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("storage.blobs.os.replace", no_rename)
    with pytest.raises(OSError, match="disk full"):
        upload_to(store, cast, app_id, uploads, b"%PDF-1.7\n lost")
    assert everything_in(store, uploads) == []
    with db.transaction() as session:
        assert session.scalars(select(Attachment).where(Attachment.application_id == app_id)).all() == []


# --- what a submission needs ----------------------------------------------------------------------------------


SHIPPED = {d.label: d for d in shipped()}
EMC = ("emc-acceptance@1", "emc-acceptance@2")
SEED_002 = Path(__file__).resolve().parents[3] / "docs" / "sources" / "seed-002-emc-acceptance.txt"


@pytest.mark.parametrize("label", EMC)
@pytest.mark.parametrize(
    "total,audit_required",
    [("99.99", False), (99.99, False), ("100", True), (100, True), ("100.00", True), ("2500.5", True), (None, False)],
)
def test_the_special_audit_report_is_required_from_100_wan(label, total, audit_required):
    """Seed 002 附件2 附件5 "投资额100万以上…专项审计报告": from 100 万元, on v1 (fallback) and v2 (its table)."""
    required = required_categories(SHIPPED[label], "enterprise", {"total_investment_wan": total})
    assert ("special_audit_report" in required) is audit_required
    assert [c for c in required if c != "special_audit_report"] == EMC_BASE


@pytest.mark.parametrize("kind", ["enterprise", "park"])
def test_every_emc_kind_but_a_data_centre_needs_the_base_set(kind):
    for label in EMC:
        assert required_categories(SHIPPED[label], kind, {"total_investment_wan": "50"}) == EMC_BASE


def test_a_data_centre_proves_its_platform_connection_from_version_2_on():
    """Seed 002 §四(二)(2): on @2 a document proves the connection; v1 (in flight) keeps the tick on its form."""
    form = {"total_investment_wan": "50"}
    assert required_categories(SHIPPED["emc-acceptance@2"], "data_centre", form) == [
        *EMC_BASE,
        "dc_platform_confirmation",
    ]
    assert required_categories(SHIPPED["emc-acceptance@1"], "data_centre", form) == EMC_BASE
    assert rules_for(SHIPPED["emc-acceptance@1"]).platform_declared_on_form
    assert not rules_for(SHIPPED["emc-acceptance@2"]).platform_declared_on_form


@pytest.mark.parametrize("label", ["monitoring-fund@1", "monitoring-fund@2"])
def test_the_monitoring_fund_needs_licence_investment_proof_and_commitment(label):
    required = required_categories(SHIPPED[label], "enterprise", {"retrofit_investment_wan": "500"})
    assert required == ["business_licence", "investment_proof", "authenticity_commitment"]


def test_the_monitoring_funds_list_is_marked_a_local_setting():
    """Seed 000 names no attachments: @2's list is programme data, labelled as a local choice."""
    definition = SHIPPED["monitoring-fund@2"]
    assert "attachments" in definition.raw
    (setting,) = [s for s in definition.local_settings if s.key == "attachments_required"]
    assert "本地设置" in setting.zh and setting.value.split(", ") == list(rules_for(definition).required)


def test_a_version_carries_its_own_attachment_rules():
    """The rules are the version's data: a later version may differ without a code change."""
    raw = copy.deepcopy(SHIPPED["emc-acceptance@2"].raw)
    raw["version"] = 9
    raw["attachments"] = {
        "required": ["business_licence"],
        "by_kind": {"park": ["other"]},
        "special_audit_from_wan": "500",
    }
    definition = parse(raw)
    assert required_categories(definition, "park", {"total_investment_wan": "499.99"}) == ["business_licence", "other"]
    assert required_categories(definition, "enterprise", {"total_investment_wan": "500"}) == [
        "business_licence",
        "special_audit_report",
    ]


@pytest.mark.parametrize(
    "table,words",
    [
        ({"required": ["business_licence", "weather_report"]}, "unknown category 'weather_report'"),
        ({"by_kind": {"park": "other"}}, "attachments.by_kind.park must be a list"),
        ({"special_audit_from_wan": "lots"}, "special_audit_from_wan: 'lots'"),
    ],
    ids=["unknown-category", "not-a-list", "not-an-amount"],
)
def test_a_table_that_cannot_be_used_is_refused_naming_why(table, words):
    raw = {**copy.deepcopy(SHIPPED["emc-acceptance@2"].raw), "version": 9, "attachments": table}
    with pytest.raises(AttachmentRulesError, match=words):
        rules_for(parse(raw))


def test_every_shipped_definition_has_usable_attachment_rules():
    for definition in SHIPPED.values():
        assert rules_for(definition).required, definition.label


def test_the_categories_carry_the_seeds_own_names():
    """附件2 "附件：包含但不限于如下资料" 1–7 and 附件3's title, word for word from seed 002."""
    text = SEED_002.read_text(encoding="utf-8")
    listed = text.split("附件：包含但不限于如下资料", 1)[1].split("附件3", 1)[0]
    seed = [re.sub(r"^\d[、.]", "", line.strip()).rstrip("；。") for line in listed.splitlines() if line.strip()]
    assert len(seed) == 7
    assert category_label("business_licence") == seed[0] == "营业执照扫描件"
    assert category_label("equipment_list") == seed[1]
    assert "（包括：名称、型号规格、生产厂家、安装地点等）" in category_label("equipment_list")
    assert category_label("construction_contract") == seed[2] == "能源管理中心建设合同（扫描件）"
    assert category_label("completion_report") == seed[3] == "项目竣工验收报告"
    assert (
        seed[4].startswith(category_label("investment_proof") + "，")
        and category_label("investment_proof") == "项目实际投资证明材料"
    )
    assert "投资额100万以上的项目要求委托" + category_label("special_audit_report") in seed[4]
    assert category_label("authenticity_commitment") == seed[5] == "申报材料真实性承诺书"
    assert category_label("other") == seed[6] == "验收工作要求的其他材料"
    letter = text.split("关于自然人的信用查询授权书模板", 1)[1].strip().splitlines()[0]
    assert category_label("credit_authorisation") == letter == "关于查询上海市公共信用信息的委托授权书"
    # §四(二)(2): "数据中心的能源管理中心须完成接入市经济信息化委“上海市数据中心能耗在线监测平台”".
    platform = "接入市经济信息化委“上海市数据中心能耗在线监测平台”"
    assert platform in text and category_label("dc_platform_confirmation").startswith(platform)


def _publish_v2_guarded_by_attachments() -> None:
    """A newer emc-acceptance whose submit names only the attachments guard, so the form's rules stay out of the way."""
    newest = max((d for d in shipped() if d.code == "emc-acceptance"), key=lambda d: d.version)
    raw = copy.deepcopy(newest.raw)
    raw["version"] = newest.version + 1
    for t in raw["transitions"]:
        if t["trigger"] == "submit":
            t["guards"] = ["required_attachments"]
    with db.transaction() as session:
        operations.publish(session, parse(raw))


def _draft(cast: factories.Cast, total: str) -> int:
    form = {"total_investment_wan": total}
    return operations.create_application(cast.applicant, "emc-acceptance", "park", "园区能源管理中心", form).id


def test_submit_is_refused_naming_each_missing_category_then_passes(app, cast):
    _publish_v2_guarded_by_attachments()
    app_id = _draft(cast, "150")
    factories.upload(app, cast, app_id, "business_licence")
    with pytest.raises(GuardFailed) as refused:
        fire(app_id, "submit", cast.applicant)
    problems = refused.value.problems
    assert [p.field for p in problems] == [
        "equipment_list",
        "construction_contract",
        "completion_report",
        "investment_proof",
        "special_audit_report",
        "authenticity_commitment",
        "credit_authorisation",
    ]
    assert {p.code for p in problems} == {"attachment_missing"}
    audit = next(p for p in problems if p.field == "special_audit_report")
    assert "150" in audit.message and "100" in audit.message
    assert factories.state_of(app_id)[0] == "draft"

    assert set(factories.attach_required(app, cast, app_id)) == {*EMC_BASE, "special_audit_report"}
    assert fire(app_id, "submit", cast.applicant).state == "district_review"


@pytest.mark.parametrize("total,needs_audit", [("99.99", False), ("100", True), ("100.00", True)])
def test_the_guard_asks_for_the_special_audit_report_exactly_from_100_wan(app, cast, total, needs_audit):
    _publish_v2_guarded_by_attachments()
    app_id = _draft(cast, total)
    for category in EMC_BASE:
        factories.upload(app, cast, app_id, category)
    if needs_audit:
        with pytest.raises(GuardFailed) as refused:
            fire(app_id, "submit", cast.applicant)
        assert [p.field for p in refused.value.problems] == ["special_audit_report"]
    else:
        assert fire(app_id, "submit", cast.applicant).state == "district_review"


def test_a_superseded_upload_still_counts_through_its_newer_version(app, cast):
    _publish_v2_guarded_by_attachments()
    app_id = _draft(cast, "10")
    factories.attach_required(app, cast, app_id)
    factories.upload(app, cast, app_id, "equipment_list", b"a,b\n1,2\n", "清单.csv")  # version 2 replaces 1
    assert fire(app_id, "submit", cast.applicant).state == "district_review"


def test_concurrent_uploads_to_one_category_get_consecutive_versions(app, committed_db):
    cast = factories.make_cast()
    app_id = factories.new_application(cast, attach=False)
    start = threading.Barrier(4)

    def one(n: int) -> int:
        start.wait()
        return factories.upload(app, cast, app_id, "other", b"%PDF-1.7\n" + bytes([n]) * 1000).version

    with ThreadPoolExecutor(4) as pool:
        versions = sorted(pool.map(one, range(4)))
    assert versions == [1, 2, 3, 4]
    with db.transaction() as session:
        current = attachments_of(session, cast.applicant, app_id)
    assert [a.version for a in current] == [4]
