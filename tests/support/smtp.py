"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for the mail tests to read."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


@dataclass
class MailServer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse: set[str] = field(default_factory=set)  # addresses answered 550 (no such mailbox)
    credentials: tuple[str, str] | None = None  # AUTH required with these, when set
    stall_seconds: float = 0.0  # > 0: the next DATA is held this long, then refused (451), and nothing kept
    stalled: threading.Event = field(default_factory=threading.Event)  # set while that DATA is held

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user else ""
        return f"smtp://{auth}{self.host}:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
        self.refuse.clear()
        self.credentials = None
        self.stall_seconds = 0.0
        self.stalled.clear()

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_RCPT(self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        if self.server.credentials is not None and not session.authenticated:
            return "530 5.7.0 authentication required"
        if self.server.stall_seconds > 0:  # a send caught mid-way: the client waits for the answer to DATA
            seconds, self.server.stall_seconds = self.server.stall_seconds, 0.0
            self.server.stalled.set()
            await asyncio.sleep(seconds)
            return "451 4.3.0 try again later"
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self.server.lock:
            self.server.received.append(Received(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


def start() -> tuple[MailServer, Controller]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = MailServer("127.0.0.1", port)

    def authenticate(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and server.credentials == (data.login.decode(), data.password.decode())
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 235 or 535 itself

    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,  # loopback only: the test server has no certificate
    )
    controller.start()
    return server, controller
