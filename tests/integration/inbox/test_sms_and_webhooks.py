"""SMS and webhooks behind the same channel interface (issue 14 item 6), against a fake HTTP endpoint on
127.0.0.1: a deadline goes by text to a reader with a mobile number; every notification goes to the webhook; the
body is signed (HMAC-SHA256 of the shared secret); 5xx is retried, 4xx is final."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from notifications.channels import HttpChannel
from notifications.models import Delivery
from tests import factories
from tests.support import endpoint as fake
from web.core import notices
from workflow.accounts import User
from workflow.db import db
from workflow.engine import fire


@pytest.fixture
def gateway(app) -> Iterator[tuple[fake.Endpoint, fake.Endpoint]]:  # type: ignore[no-untyped-def]
    sms, sms_server = fake.start()
    hook, hook_server = fake.start()
    saved = notices.settings(app)
    app.extensions["notification_settings"] = dataclasses.replace(
        saved,
        channels={
            **saved.channels,
            "sms": HttpChannel("sms", sms.url, "sms-secret"),
            "webhook": HttpChannel("webhook", hook.url, "hook-secret"),
        },
    )
    try:
        yield sms, hook
    finally:
        app.extensions["notification_settings"] = saved
        sms_server.shutdown()
        hook_server.shutdown()


def _statuses(channel: str) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(Delivery.status).where(Delivery.channel == channel).order_by(Delivery.id)))


def test_a_deadline_goes_by_text_and_everything_to_the_webhook_signed(cast, gateway):
    sms, hook = gateway
    with db.transaction() as session:
        session.get(User, cast.applicant.id).phone = "+86 138 0000 0000"
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    assert sms.calls == []  # no deadline in a submission
    factories.drive_to(cast, app_id, "completeness_check")
    fire(app_id, "request_supplement", cast.municipal_reviewer, factories.payload_for("request_supplement", app_id))
    [text] = sms.calls
    assert text.body["to"] == "+86 138 0000 0000"
    assert (
        text.body["text"].startswith("【待办】能源管理中心建设项目") and f"/applications/{app_id}" in text.body["text"]
    )
    expected = hmac.new(b"sms-secret", text.raw, hashlib.sha256).hexdigest()
    assert text.headers["X-Signature"] == f"sha256={expected}"
    kinds = [(c.body["to"], c.body["kind"]) for c in hook.calls]
    assert (cast.district_reviewer.username, "your_turn") in kinds and (cast.applicant.username, "your_turn") in kinds
    assert all(c.body["message_id"] == c.headers["Idempotency-Key"] for c in hook.calls)
    assert len({c.body["message_id"] for c in hook.calls}) == len(hook.calls)  # one per notification


def test_a_server_error_is_retried_a_refusal_is_final(cast, gateway):
    _sms, hook = gateway
    hook.status = 503
    fire(factories.new_application(cast), "submit", cast.applicant)
    assert set(_statuses("webhook")) == {"pending"}
    hook.status = 400
    fire(factories.new_application(cast), "submit", cast.applicant)
    assert _statuses("webhook")[-2:] == ["dead", "dead"]
