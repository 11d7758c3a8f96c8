"""Attachments: one row per uploaded version of a document in a category of an application (附件2's list);
the person who authorises the credit query of an application (附件3)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.accounts import User
from workflow.db import Base, utcnow

# key → (zh, en). 附件2 numbers them 1–7; 附件3 is the credit-query authorisation; `supplement` answers a request.
CATEGORIES: dict[str, tuple[str, str]] = {
    "business_licence": ("营业执照扫描件", "Business licence (scan)"),
    "equipment_list": ("设备清单（名称、型号、生产厂家、安装位置）", "Equipment list"),
    "construction_contract": ("项目建设合同", "Construction contract"),
    "completion_report": ("竣工验收报告", "Completion acceptance report"),
    "investment_proof": ("项目实际投资证明材料", "Proof of actual investment"),
    "special_audit_report": ("会计师事务所专项审计报告", "Special audit report by an accounting firm"),
    "authenticity_commitment": ("真实性承诺书", "Authenticity commitment"),
    "credit_authorisation": ("信用查询授权书", "Credit-query authorisation"),
    "other": ("其他材料", "Other materials"),
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
