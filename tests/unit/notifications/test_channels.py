"""The channels' configuration: SMTP_URL, MAIL_FROM, the SMS gateway and the webhook, each a clear error when
malformed; mail to the log when SMTP_URL is unset (the embedded default)."""

from __future__ import annotations

import pytest

from notifications.channels import HttpChannel, LogChannel, SmtpChannel, from_config


@pytest.mark.parametrize(
    "url,message",
    [
        ("mail://host", "must look like smtp://"),
        ("smtp://", "must look like smtp://"),
        ("smtp://host?starttls=maybe", "starttls must be auto, require or never, not 'maybe'"),
    ],
)
def test_a_malformed_smtp_url_says_what_is_expected(url, message):
    with pytest.raises(ValueError, match=message):
        SmtpChannel(url, "noreply@emc.test")


def test_smtp_url_parts_and_their_defaults():
    plain = SmtpChannel("smtp://mailer:p%40ss@mail.example.gov.cn:587", "noreply@emc.test")
    assert (plain.host, plain.port, plain.user, plain.password, plain.ssl) == (
        "mail.example.gov.cn",
        587,
        "mailer",
        "p@ss",
        False,
    )
    tls = SmtpChannel("smtps://mail.example.gov.cn", "noreply@emc.test")
    assert (tls.port, tls.ssl, tls.user) == (465, True, None)
    assert SmtpChannel("smtp://mail.example.gov.cn", "x@y").port == 25


def test_the_configuration_names_the_channels():
    assert isinstance(from_config({})["email"], LogChannel)
    channels = from_config(
        {
            "SMTP_URL": "smtp://127.0.0.1:2525",
            "MAIL_FROM": "补贴 <noreply@emc.test>",
            "SMS_GATEWAY_URL": "https://sms.example.gov.cn/send",
            "WEBHOOK_URL": "http://127.0.0.1:9000/hook",
        }
    )
    assert isinstance(channels["email"], SmtpChannel) and channels["email"].sender == "补贴 <noreply@emc.test>"
    assert isinstance(channels["sms"], HttpChannel) and channels["sms"].name == "sms"
    assert isinstance(channels["webhook"], HttpChannel)
    with pytest.raises(ValueError, match="the webhook endpoint must be an http"):
        from_config({"WEBHOOK_URL": "ftp://x/y"})
