"""Organisations, users and roles: who may act, and over what (their scope)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base, utcnow

ROLES: tuple[str, ...] = (
    "applicant",
    "district_reviewer",
    "municipal_reviewer",
    "agency_coordinator",
    "expert",
    "finance_officer",
    "monitoring_reviewer",
    "market_regulator",
    "admin",
    "security_admin",
    "auditor",
)
SYSTEM_ROLE = "system"

ORGANISATION_KINDS: tuple[str, ...] = (
    "enterprise",
    "data_centre",
    "park",
    "service_company",
    "group_company",
    "agency",
    "authority",
)

DISTRICTS: tuple[str, ...] = (
    "黄浦区",
    "徐汇区",
    "长宁区",
    "静安区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "闵行区",
    "宝山区",
    "嘉定区",
    "浦东新区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
    "临港新片区",
)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


LANGUAGES = ("zh", "en")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(f"kind IN ({_in(ORGANISATION_KINDS)})", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(16))
    # The group company (集团公司) a unit reports to; its reviewers see the unit's applications.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    group: Mapped[Organisation | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Organisation {self.uscc} {self.name}>"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(ROLES)})", name="role"),
        CheckConstraint(f"language IN ({_in(LANGUAGES)})", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))  # for SMS, where a gateway is configured
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")  # what mail is written in
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    # Scope: a district for district reviewers; an organisation for applicants (their unit),
    # for district reviewers of a group company, and for experts (their employer).
    district: Mapped[str | None] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Brute-force defence, counted per account (not per client address, which a caller can spoof).
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    last_failed_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    # Every page session carries the generation it was opened under; logout and deactivation move it on, so a
    # captured cookie stops working everywhere at once.
    session_generation: Mapped[int] = mapped_column(default=1, server_default="1")
    # Optional second factor for staff (TOTP, RFC 6238): the secret sealed with FIELD_ENCRYPTION_KEYS, the time it
    # was confirmed (NULL: not in use, or enrolment not yet confirmed), and the last 30-second step a code was
    # accepted for, so a code cannot be used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[dt.datetime | None]
    totp_last_step: Mapped[int | None]

    organisation: Mapped[Organisation | None] = relationship()

    # Flask-Login's protocol, without importing Flask here.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


@dataclass(frozen=True)
class SystemActor:
    """The engine itself acting: deadline lapses, scheduled archiving."""

    id: None = None
    username: str = "system"
    role: str = SYSTEM_ROLE
    district: None = None
    organisation_id: None = None
    active: bool = True


SYSTEM = SystemActor()


@dataclass(frozen=True)
class ActorSnapshot:
    """A user as the database knows it when a command starts: who, which role, which scope."""

    id: int
    username: str
    role: str
    district: str | None
    organisation_id: int | None
    active: bool


Actor = User | SystemActor | ActorSnapshot


# API bearer tokens: only a hash is stored; the token itself is shown once.
class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()
