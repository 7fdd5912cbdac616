"""SMTP for the outbox: URL forms, the MIME message a person receives, plain/STARTTLS/SMTPS with AUTH."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from shared.outbox.smtp import (
    ConnectError,
    Outcome,
    Outgoing,
    SmtpConfig,
    SmtpConnection,
    SmtpUrlError,
    message_id,
    render_message,
)
from tests.celery_harness import SmtpSink, TlsFiles

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
SUBJECT = "【催办】3 项任务今天到期"
FROM = "共治协同平台 <noreply@gongzhi.local>"


def _item(i: int = 7, to: str = "liaison_xfxh@gov.example") -> Outgoing:
    return Outgoing(
        id=i, dedup_key=f"reminder:due_today:{i}:12:2026-12-01", kind="reminder.digest", to_address=to,
        subject=SUBJECT, body_text="张联络，您好：\n今天到期 3 项。\n.\n.以点开头的行",
        body_html="<p>张联络，您好：</p><p>今天到期 <b>3</b> 项。</p>",
    )


def build(item: Outgoing, now: datetime = NOW) -> EmailMessage:
    return message_from_bytes(render_message(item, mail_from=FROM, now=now), policy=policy.default)  # type: ignore[return-value]


def _send(config: SmtpConfig, item: Outgoing | None = None) -> Outcome:
    item = item or _item()
    data = render_message(item, mail_from=FROM, now=NOW)
    with SmtpConnection(config) as conn:
        return conn.send("noreply@gongzhi.local", item.to_address, data).outcome


def test_url_forms_and_decoded_credentials():
    plain = SmtpConfig.from_url("smtp://mail.local")
    assert (plain.host, plain.port, plain.security, plain.username) == ("mail.local", 25, "plain", None)
    starttls = SmtpConfig.from_url("smtp+starttls://gz%40gov.example:p%3Ass%2Fw0rd@smtp.gov.example:2587")
    assert (starttls.security, starttls.port) == ("starttls", 2587)
    assert (starttls.username, starttls.password) == ("gz@gov.example", "p:ss/w0rd")
    tls = SmtpConfig.from_url("smtps://u:p@smtp.gov.example?timeout=5&verify=false")
    assert (tls.security, tls.port, tls.timeout, tls.verify) == ("tls", 465, 5.0, False)
    assert SmtpConfig.from_url("smtp+starttls://h").port == 587
    assert "p:ss" not in starttls.redacted() and "gz@gov.example:***@" in starttls.redacted()
    with pytest.raises(SmtpUrlError):
        SmtpConfig.from_url("http://mail.local")


def test_message_is_multipart_with_encoded_chinese_subject_and_stable_id():
    raw = render_message(_item(), mail_from=FROM, now=NOW)
    msg = build(_item())
    assert raw.isascii(), "every header and body line must be 7-bit"
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert b"Subject: =?utf-8?" in raw
    assert not msg.defects and str(msg["Subject"]) == SUBJECT and str(msg["From"]) == FROM
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == message_id(7, _item().dedup_key)
    assert msg["Message-ID"].startswith("<outbox-7-") and msg["Message-ID"].endswith("@gongzhi.local>")
    # A resend of the same row carries the same Message-ID; another row does not.
    assert build(_item(), NOW.replace(hour=9))["Message-ID"] == msg["Message-ID"]
    assert build(_item(8))["Message-ID"] != msg["Message-ID"]
    assert msg["Auto-Submitted"] == "auto-generated"


def test_a_line_break_in_a_subject_cannot_inject_headers():
    item = Outgoing(1, "k", "x", "a@gov.example\r\nBcc: all@gov.example", "催办\r\nBcc: all@gov.example",
                    "t", "<p>t</p>")
    msg = build(item)
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"]) and "\n" not in str(msg["To"])
    with SmtpSink() as sink, SmtpConnection(SmtpConfig.from_url(sink.url)) as conn:
        result = conn.send("noreply@gongzhi.local", item.to_address, render_message(item, mail_from=FROM, now=NOW))
    assert result.outcome is Outcome.FAILED and not sink.messages


def test_plain_smtp_delivers_what_a_person_reads():
    with SmtpSink() as sink:
        assert _send(SmtpConfig.from_url(sink.url)) is Outcome.SENT
        (got,) = sink.wait_for(1)
    assert got.subject == SUBJECT
    assert str(got.message["From"]) == FROM
    assert got.rcpt_tos == ["liaison_xfxh@gov.example"]
    assert got.body("plain").splitlines() == ["张联络，您好：", "今天到期 3 项。", ".", ".以点开头的行"]
    assert "<b>3</b>" in got.body("html")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_and_auth(security, tmp_path):
    users = {"gz@gov.example": "s3cret:/@"}
    with SmtpSink(security=security, users=users, tls=TlsFiles.create(tmp_path)) as sink:
        assert "%40" in sink.url and "%3A" in sink.url  # credentials travel URL-encoded
        assert _send(SmtpConfig.from_url(sink.url)) is Outcome.SENT
        assert sink.wait_for(1)[0].subject == SUBJECT
        wrong = sink.url.replace("s3cret", "wrong")
        with pytest.raises(ConnectError, match="535"):
            _send(SmtpConfig.from_url(wrong))
        assert sink.auth_failures >= 1


def test_tls_refuses_an_untrusted_certificate(tmp_path):
    with SmtpSink(security="tls", tls=TlsFiles.create(tmp_path)) as sink:
        untrusted = sink.url.split("?")[0]
        with pytest.raises(ConnectError, match="SSL"):
            _send(SmtpConfig.from_url(untrusted))
        assert _send(SmtpConfig.from_url(untrusted + "?verify=false")) is Outcome.SENT


def test_replies_are_classified():
    with SmtpSink() as sink:
        sink.script("busy@gov.example", "451 4.3.0 mailbox busy", stage="rcpt")
        sink.script("gone@gov.example", "550 5.1.1 no such user", stage="rcpt")
        sink.script("full@gov.example", "452 4.2.2 over quota")
        config = SmtpConfig.from_url(sink.url)
        with SmtpConnection(config) as conn:
            def send(to: str) -> tuple[Outcome, str | None]:
                item = _item(to=to)
                r = conn.send("noreply@gongzhi.local", to, render_message(item, mail_from=FROM, now=NOW))
                return r.outcome, r.error

            assert send("busy@gov.example")[0] is Outcome.RETRY
            outcome, error = send("gone@gov.example")
            assert outcome is Outcome.FAILED and error is not None and "550" in error
            assert send("full@gov.example")[0] is Outcome.RETRY
            # The same connection still works after each refusal.
            assert send("ok@gov.example")[0] is Outcome.SENT
        assert [m.rcpt_tos for m in sink.messages] == [["ok@gov.example"]]


def test_refused_connection_is_a_connect_error():
    with SmtpSink() as sink:
        url = sink.url
    with pytest.raises(ConnectError, match="127.0.0.1"):
        SmtpConnection(SmtpConfig.from_url(url)).open()
