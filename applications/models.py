"""Attachments: one row per uploaded version of a document in a category of an application (附件2's list);
the person who authorises the credit query of an application (附件3)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import User
from workflow.db import Base, utcnow

# key → (zh, en), in the seed's own words: seed 002 附件2 "附件：包含但不限于如下资料" 1–7, then 附件3's title.
# `dc_platform_confirmation` is the proof behind a data centre's platform claim (seed 002 §四(二)(2)); `supplement`
# answers a request (our category, not a seed document).
CATEGORIES: dict[str, tuple[str, str]] = {
    "business_licence": ("营业执照扫描件", "Business licence (scan)"),
    "equipment_list": (
        "用于能源管理中心信息化管理及控制系统设备清单（包括：名称、型号规格、生产厂家、安装地点等）",
        "List of the EMC's information-management and control equipment (name, model, manufacturer, location)",
    ),
    "construction_contract": ("能源管理中心建设合同（扫描件）", "EMC construction contract (scan)"),
    "completion_report": ("项目竣工验收报告", "Project completion acceptance report"),
    "investment_proof": ("项目实际投资证明材料", "Proof of the project's actual investment"),
    # 附件2 item 5: "投资额100万以上的项目要求委托会计师事务所出具的专项审计报告".
    "special_audit_report": ("会计师事务所出具的专项审计报告", "Special audit report issued by an accounting firm"),
    "authenticity_commitment": ("申报材料真实性承诺书", "Commitment to the authenticity of the application"),
    "credit_authorisation": (
        "关于查询上海市公共信用信息的委托授权书",
        "Authorisation to query Shanghai public credit information",
    ),
    "other": ("验收工作要求的其他材料", "Other materials the acceptance review requires"),
    "dc_platform_confirmation": (
        "接入市经济信息化委“上海市数据中心能耗在线监测平台”的确认材料",
        "Confirmation of the connection to the municipal data-centre energy monitoring platform",
    ),
    "supplement": ("补充材料", "Supplementary materials"),
}


def category_label(category: str, lang: str = "zh") -> str:
    zh, en = CATEGORIES.get(category, (category, category))
    return zh if lang == "zh" else en


class Attachment(Base):
    """One version of one document. A re-upload adds version n+1 and marks the previous one superseded."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("application_id", "category", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    # The client's name, cleaned for display and download; never used as a path.
    filename: Mapped[str] = mapped_column(String(255))
    # Decided from the bytes (storage.sniff), not from the name or the client's Content-Type.
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Content-addressed: sha256/<first two hex digits>/<sha256>; equal bytes share one blob.
    blob_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set when a newer version of the same category arrives; NULL marks the current version.
    superseded_at: Mapped[dt.datetime | None]

    uploaded_by: Mapped[User | None] = relationship()
    # Not a column: set on the row an upload returns when its bytes were already the current version.
    unchanged = False

    @property
    def current(self) -> bool:
        return self.superseded_at is None

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.category} v{self.version} of application {self.application_id}>"


# 附件3 is signed by one of these two.
AUTHORISER_ROLES = ("法人代表", "项目负责人")


class CreditAuthoriser(Base):
    """Who authorises an application's credit query (附件3). The newest row is current; older ones are kept."""

    __tablename__ = "credit_authorisers"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    person_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    # The ID number sealed (storage.sealed, a Fernet token); the clear number is never stored.
    id_card_sealed: Mapped[str] = mapped_column(Text)
    # What screens show: first 3 and last 4 characters (forms.idcard.masked).
    id_card_masked: Mapped[str] = mapped_column(String(18))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:  # no ID number in a repr: it ends up in logs and tracebacks
        return f"<CreditAuthoriser {self.id} {self.role} {self.id_card_masked} of application {self.application_id}>"


class BinderBuild(Base):
    """One request for an application's binder, built by a worker: its progress, and the stored .docx when done."""

    __tablename__ = "binder_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, building, done, failed
    done: Mapped[int] = mapped_column(default=0)  # attachments bound so far
    total: Mapped[int] = mapped_column(default=0)
    blob_key: Mapped[str | None] = mapped_column(String(100))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
