"""Configuration from the environment; the embedded default needs none."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery.schedules import crontab

from storage import sealed, signing
from workflow import workdays

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_path() -> Path:
    return Path(os.environ.get("EMC_INSTANCE", PROJECT_ROOT / "instance")).resolve()


def instance_secret(instance: Path, name: str, make: Callable[[], str]) -> str:
    """A secret kept in instance/`name`, made on first use; readable by the owner only from the first byte."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once do not each write a different secret.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
    return path.read_text().strip()


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment; for a first local run, one generated and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    return instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))


def _field_encryption_keys(instance: Path) -> list[str]:
    """FIELD_ENCRYPTION_KEYS (comma-separated: the first seals, all open); else one key kept in instance/.

    Losing the key loses every sealed value (the ID numbers of credit authorisers): back instance/ up with the
    database, or set the variable from a secret store.
    """
    keys = sealed.parse_keys(os.environ.get("FIELD_ENCRYPTION_KEYS", ""))
    if not keys:
        keys = [instance_secret(instance, "field_encryption_key", sealed.generate_key)]
    sealed.Sealer(keys)  # refuse to start with a malformed key rather than fail on the first ID number
    return keys


def _audit_keys(instance: Path) -> list[str]:
    """AUDIT_KEY (signs new events) then AUDIT_KEYS_PREVIOUS (comma-separated, still verify); else one key kept in
    instance/. It must live outside the database: with it, anyone who can write the database could re-sign the chain.
    """
    current = os.environ.get("AUDIT_KEY", "").strip() or instance_secret(
        instance, "audit_key", lambda: secrets.token_urlsafe(32)
    )
    previous = [k.strip() for k in os.environ.get("AUDIT_KEYS_PREVIOUS", "").split(",") if k.strip()]
    return [current, *previous]


def _archive_signing_key(instance: Path) -> str:
    """ARCHIVE_SIGNING_KEY (the Ed25519 seed, base64); else one kept in instance/ for a first local run. Only its
    public half is ever shown (/archive/public-key); a verifier needs nothing else."""
    return os.environ.get("ARCHIVE_SIGNING_KEY", "").strip() or instance_secret(
        instance, "archive_signing_key", signing.new_ed25519_secret
    )


def _visibility(seconds: int) -> dict[str, int]:
    """Redis' redelivery of unacknowledged tasks: after `seconds` (longer than any task runs, or it runs twice), looked
    for every few seconds (kombu's default sweep, every 100 s, would add to the wait)."""
    return {"visibility_timeout": seconds, "unacked_restore_interval": max(1, min(10, seconds // 4)),
            "unacked_restore_throttle": 1}  # fmt: skip


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def _rate_limit_storage(broker: str) -> str:
    """RATELIMIT_STORAGE_URL; else the Redis broker when there is one (shared by every worker); else in memory."""
    if os.environ.get("RATELIMIT_STORAGE_URL"):
        return os.environ["RATELIMIT_STORAGE_URL"]
    return broker if broker.startswith(("redis://", "rediss://")) else "memory://"


def from_environment() -> dict[str, Any]:
    instance = instance_path()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        # Keys for values kept encrypted in the database (storage.sealed); never logged.
        "FIELD_ENCRYPTION_KEYS": _field_encryption_keys(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'emc.sqlite3'}"),
        "STORAGE_URL": os.environ.get("STORAGE_URL", f"file://{instance / 'blobs'}"),
        "CELERY": {
            # No broker configured: run tasks in-process (embedded default only).
            "broker_url": broker or "memory://",
            "task_always_eager": not broker,
            "task_eager_propagates": False,
            "task_ignore_result": True,
            "task_acks_late": True,
            # One broker may serve several installations (or test runs): each keeps to its own queue.
            "task_default_queue": os.environ.get("CELERY_QUEUE", "celery"),
            "broker_connection_retry_on_startup": True,
            # Redis: a task a killed worker held unacknowledged (acks_late) is handed out again after this long.
            "broker_transport_options": _visibility(int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))),
            # Crontab entries below are Beijing time; every time the app stores stays UTC.
            "timezone": "Asia/Shanghai",
            "enable_utc": True,
            "beat_schedule": {
                "relay-outbox": {"task": "workflow.relay_outbox", "schedule": 30.0},
                "fire-due-deadlines": {"task": "workflow.fire_due_deadlines", "schedule": 300.0},
                "sweep-staging": {"task": "storage.sweep_staging", "schedule": 3600.0},
                # Retries due and deliveries a dead worker held (notifications.delivery).
                "sweep-deliveries": {"task": "notifications.sweep_deliveries", "schedule": 30.0},
                # Reminders from 08:00 on, hourly through the working day: each goes once per person per occasion,
                # so a missed or doubled beat changes nothing; nothing goes on a day off.
                "remind": {"task": "notifications.remind", "schedule": crontab(minute=0, hour="8-18")},
                "send-digests": {"task": "notifications.send_digests", "schedule": crontab(minute=30, hour="17-19")},
            },
        },
        "TOKEN_TTL_HOURS": int(os.environ.get("TOKEN_TTL_HOURS", "12")),
        "BABEL_DEFAULT_LOCALE": "zh",
        "LANGUAGES": ["zh", "en"],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Every request body but an attachment upload, which raises its own limit to MAX_UPLOAD_BYTES.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Largest attachment kept (bytes); an upload streams to disk and is cut off the moment it passes this.
        "MAX_UPLOAD_BYTES": int(os.environ.get("MAX_UPLOAD_BYTES", str(200 * 1024 * 1024))),
        # Working-day deadlines (a supplement's default due date) skip weekends and these dates; weekend days
        # made working days (调休) are counted. Comma-separated ISO dates, from the State Council's yearly notice.
        "WORKING_DAY_HOLIDAYS": workdays.parse_dates(os.environ.get("WORKING_DAY_HOLIDAYS", "")),
        "WORKING_WEEKENDS": workdays.parse_dates(os.environ.get("WORKING_WEEKENDS", "")),
        # The expert panel: how many are drawn by default, and whether an expert of the applicant's own district
        # is left out of the draw.
        "PANEL_SIZE": int(os.environ.get("PANEL_SIZE", "3")),
        "PANEL_EXCLUDE_SAME_DISTRICT": os.environ.get("PANEL_EXCLUDE_SAME_DISTRICT", "0").lower()
        in ("1", "true", "yes"),
        # Stage packages that register guards, effects and outbox subscribers with the engine.
        "WORKFLOW_PLUGINS": [
            "forms.plugin",
            "review.plugin",
            "applications.plugin",
            "notifications.tasks",
            "meters.plugin",
            "web.archive.tasks",
            "workflow.tasks",
        ],
        # The shell's areas, each a room with its pages, API, OpenAPI paths and commands (web/core/areas.py).
        # Their cards and menu links take explicit positions, so this order only decides registration.
        "SHELL_AREAS": [
            "web.applications",
            "web.desks",
            "web.panel",
            "web.admin",
            "web.meters",
            "web.funding",
            "web.archive",
            "web.inbox",
            "web.overview",
            "web.rounds",
            "web.demo",
            "web.audit",
        ],
        # --- input limits (issue 10): any string field, a JSON body, its nesting ---
        "MAX_FIELD_CHARS": int(os.environ.get("MAX_FIELD_CHARS", "20000")),
        "MAX_JSON_BYTES": int(os.environ.get("MAX_JSON_BYTES", str(1024 * 1024))),
        "MAX_JSON_DEPTH": int(os.environ.get("MAX_JSON_DEPTH", "20")),
        # The largest award a finance officer may propose (yuan); a local setting, not from the seeds.
        "AWARD_CEILING_YUAN": os.environ.get("AWARD_CEILING_YUAN", "10000000"),
        # --- notifications (issue 14): mail by SMTP_URL (unset: written to the log), SMS and webhook where set ---
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "上海市节能减排专项资金 <noreply@localhost>"),
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_SECRET": os.environ.get("SMS_GATEWAY_SECRET", ""),
        "WEBHOOK_URL": os.environ.get("WEBHOOK_URL", ""),
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET", ""),
        # Where links in mail point (this site as its readers reach it).
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # A four-eyes approval waiting more working days than this reminds the approvers. A local setting.
        "APPROVAL_REMINDER_DAYS": int(os.environ.get("APPROVAL_REMINDER_DAYS", "3")),
        # A delivery a worker claimed is another's after this long (a worker killed mid-send).
        "DELIVERY_LEASE_SECONDS": int(os.environ.get("DELIVERY_LEASE_SECONDS", "120")),
        # --- archive packages (issue 13): signed with this key, by this algorithm (a plug-in: storage.signing) ---
        "ARCHIVE_SIGNING_KEY": _archive_signing_key(instance),
        "ARCHIVE_SIGNING_ALGORITHM": os.environ.get("ARCHIVE_SIGNING_ALGORITHM", "ed25519"),
        # Years a package is held write-once where the blob store can (S3 object lock). A local setting: seed 002
        # 附表1 asks for 5-10 years of operating data; how long a file is kept is the commission's to set.
        "ARCHIVE_RETENTION_YEARS": int(os.environ.get("ARCHIVE_RETENTION_YEARS", "10")),
        # --- the audit chain's keys (issue 10): never logged, never in the database ---
        "AUDIT_KEYS": _audit_keys(instance),
        # Events written before the chain was keyed verify by plain SHA-256 up to this seq (0: none may).
        "AUDIT_LEGACY_THROUGH": int(os.environ.get("AUDIT_LEGACY_THROUGH", "0")),
        # --- logins and sessions (issue 10) ---
        # An account is locked for LOCKOUT_MINUTES after LOCKOUT_FAILURES wrong passwords in a row.
        "LOCKOUT_FAILURES": int(os.environ.get("LOCKOUT_FAILURES", "5")),
        "LOCKOUT_MINUTES": int(os.environ.get("LOCKOUT_MINUTES", "30")),
        # Per client address, on POST /login and POST /api/v1/auth/token (Flask-Limiter's notation).
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;60 per hour"),
        "RATELIMIT_STORAGE_URI": _rate_limit_storage(broker),
        # A page session or API token unused this long stops working.
        "IDLE_TIMEOUT_MINUTES": int(os.environ.get("IDLE_TIMEOUT_MINUTES", "30")),
        # Production behind TLS: cookies only over HTTPS, and HSTS.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        "HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", "0")),
        # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host; 0 trusts none (the default).
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        # Upload staging files (.part-) older than this are swept by a periodic task.
        "STAGING_MAX_AGE_HOURS": int(os.environ.get("STAGING_MAX_AGE_HOURS", "24")),
    }
