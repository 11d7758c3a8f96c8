"""Channels a notification travels by, behind one interface: e-mail over SMTP (or the log, on the embedded
default), SMS through an HTTP gateway, and a webhook. Each `send` either returns (delivered to the next hop) or
raises `ChannelError`, permanent (no retry will help: a mailbox that does not exist) or not (retry later)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from workflow.db import utcnow

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # seconds per connection attempt and per reply


@dataclass(frozen=True)
class Message:
    """What one recipient receives on one channel."""

    to: str  # an address, a phone number, or for a webhook the recipient's account name
    subject: str
    text: str
    html: str
    lang: str
    message_id: str  # the same on every attempt: a receiver may use it to drop a repeat
    data: dict[str, Any]  # what a machine reader needs: kind, application, occasion, link


class ChannelError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class LogChannel:
    """SMTP_URL unset (the embedded default): the mail is written to the log instead of being sent."""

    name = "email"

    def __init__(self, sender: str):
        self.sender = sender

    def send(self, message: Message) -> None:
        log.info("mail (not sent: no SMTP_URL) to %s: %s\n%s", message.to, message.subject, message.text)


class SmtpChannel:
    """SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS when the server offers it; ?starttls=require insists)
    or smtps://… (TLS from the first byte)."""

    name = "email"

    def __init__(self, url: str, sender: str, timeout: float = TIMEOUT):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"SMTP_URL must look like smtp://user:pass@host:587 or smtps://…, not '{url}'")
        self.ssl = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        starttls = parse_qs(parts.query).get("starttls", ["auto"])[-1]
        if starttls not in ("auto", "require", "never"):
            raise ValueError(f"SMTP_URL's starttls must be auto, require or never, not '{starttls}'")
        self.starttls = starttls
        self.sender, self.timeout = sender, timeout

    def _email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(utcnow())
        mail["Message-ID"] = message.message_id
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the system
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        mail["Content-Language"] = "zh-CN" if message.lang == "zh" else "en"  # after: set_content drops Content-*
        return mail

    def send(self, message: Message) -> None:
        try:
            client: smtplib.SMTP
            if self.ssl:
                client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if not self.ssl and self.starttls != "never" and client.has_extn("starttls"):
                    client.starttls()
                    client.ehlo()
                elif not self.ssl and self.starttls == "require":
                    raise ChannelError(f"{self.host}:{self.port} does not offer STARTTLS", permanent=False)
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(self._email(message))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            permanent = all(c >= 500 for c in codes)
            raise ChannelError(f"refused {message.to}: {exc.recipients}", permanent=permanent) from exc
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc


class HttpChannel:
    """An HTTP endpoint that takes JSON: an SMS gateway (`sms`) or a webhook (`webhook`). The body is signed with
    HMAC-SHA256 of the shared secret (header X-Signature: sha256=…); 2xx is delivered, 408/429/5xx are tried again,
    any other answer is permanent."""

    def __init__(self, name: str, url: str, secret: str, timeout: float = TIMEOUT):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the {name} endpoint must be an http(s) URL, not '{url}'")
        self.name, self.url, self.secret, self.timeout = name, url, secret.encode(), timeout

    def body(self, message: Message) -> dict[str, Any]:
        if self.name == "sms":  # a text message: short, the subject and the link
            return {"to": message.to, "text": f"{message.subject} {message.data.get('link', '')}".strip()}
        return {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "lang": message.lang,
            "message_id": message.message_id,
            **message.data,
        }

    def send(self, message: Message) -> None:
        raw = json.dumps(self.body(message), ensure_ascii=False, sort_keys=True).encode()
        signature = hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url,
            data=raw,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Signature": f"sha256={signature}",
                "Idempotency-Key": message.message_id,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            retry = exc.code in (408, 429) or exc.code >= 500
            raise ChannelError(f"{self.name} endpoint answered {exc.code}", permanent=not retry) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ChannelError(f"{self.name} endpoint: {exc}") from exc


def from_config(config: dict[str, Any]) -> dict[str, Channel]:
    """The channels the configuration names: mail always (SMTP or the log), SMS and webhook when configured."""
    sender = config.get("MAIL_FROM") or "noreply@localhost"
    channels: dict[str, Channel] = {
        "email": SmtpChannel(config["SMTP_URL"], sender) if config.get("SMTP_URL") else LogChannel(sender)
    }
    if config.get("SMS_GATEWAY_URL"):
        channels["sms"] = HttpChannel("sms", config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_SECRET") or "")
    if config.get("WEBHOOK_URL"):
        channels["webhook"] = HttpChannel("webhook", config["WEBHOOK_URL"], config.get("WEBHOOK_SECRET") or "")
    return channels


__all__ = ["Channel", "ChannelError", "HttpChannel", "LogChannel", "Message", "SmtpChannel", "from_config"]
