"""SMTP for the outbox: the server URL, the MIME message, and one connection per relay run.

`GONGZHI_SMTP_URL` forms::

    smtp://host:25                         plain (the local mail catcher, a relay on the LAN)
    smtp+starttls://user:pass@host:587     STARTTLS, then AUTH
    smtps://user:pass@host:465             TLS from the first byte, then AUTH

User and password are URL-decoded (`%40` for `@`).  Query options:
`timeout=30` (seconds per SMTP operation), `cafile=/path/ca.pem` (trust a private
CA), `verify=false` (accept any certificate — only for trying things out),
`helo=name` (the name we greet with).

Only smtplib's public API speaks SMTP here (`ehlo`, `starttls`, `login`,
`mail`, `rcpt`, `data`), so the relay knows what an error means: anything
that fails before the message body can have left (connect, EHLO, MAIL, RCPT,
a refused DATA command) certainly did not deliver it and may be retried; a
connection that breaks inside DATA, with no final reply, may or may not have
delivered it — that outcome is "unknown" and is never resent automatically.
"""

from __future__ import annotations

import binascii
import email.policy
import functools
import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
DEFAULT_TIMEOUT = 30.0


class SmtpUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "plain"  # plain | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    cafile: str | None = None
    verify: bool = True
    helo: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise SmtpUrlError(
                f"unsupported SMTP URL scheme {parts.scheme!r}; use smtp, smtp+starttls or smtps"
            )
        if not parts.hostname:
            raise SmtpUrlError("SMTP URL needs a host")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}[scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[scheme],
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=float(query.get("timeout", DEFAULT_TIMEOUT)),
            cafile=query.get("cafile"),
            verify=query.get("verify", "true").lower() not in ("0", "false", "no"),
            helo=query.get("helo"),
        )

    def redacted(self) -> str:
        """For logs: never print the password."""
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


# ------------------------------------------------------------------ the message


@dataclass(frozen=True)
class MailAttachment:
    """A file sent with a message (an `outbox_attachment` row)."""

    filename: str
    content_type: str  # "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    content: bytes


@dataclass(frozen=True)
class Outgoing:
    """What the relay needs of an outbox row, detached from the session."""

    id: int
    dedup_key: str
    kind: str
    to_address: str
    subject: str
    body_text: str
    body_html: str
    attachments: tuple[MailAttachment, ...] = ()


def message_id(outbox_id: int, dedup_key: str, domain: str = "gongzhi.local") -> str:
    """Stable per row: a resend of the same row carries the same Message-ID, so mail
    clients that already have it can recognise the copy."""
    return _message_id(outbox_id, _digest(dedup_key), domain)


def _message_id(outbox_id: int, digest: str, domain: str) -> str:
    return f"<outbox-{outbox_id}-{digest[:16]}@{domain}>"


def _digest(dedup_key: str) -> str:
    return hashlib.sha256(dedup_key.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=64)
def sender_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rpartition("@")[2] or "gongzhi.local"


@functools.lru_cache(maxsize=1024)
def envelope_address(value: str) -> str:
    """The bare address for MAIL FROM / RCPT TO ("共治 <a@b>" → "a@b")."""
    return parseaddr(value)[1] or value


def _one_line(value: str) -> str:
    """Header values come from our own rows, but a CR or LF must never start a new header."""
    return " ".join(value.splitlines())


def _encoded(value: str) -> str:
    """RFC 2047 base64 encoded words, folded onto lines that stay under 78 characters.

    Each word holds whole characters only (≤ 45 bytes of UTF-8), so no mail
    client shows half a Chinese character at a fold.
    """
    value = _one_line(value)
    if value.isascii():
        return value
    raw = value.encode("utf-8")
    words: list[str] = []
    start = 0
    while start < len(raw):
        end = min(start + 45, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # never cut inside a character
            end -= 1
        words.append(f"=?utf-8?b?{binascii.b2a_base64(raw[start:end], newline=False).decode('ascii')}?=")
        start = end
    return "\r\n ".join(words)


@functools.lru_cache(maxsize=1024)
def _address(value: str) -> str:
    name, address = parseaddr(_one_line(value))
    if not address:
        return _one_line(value)
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))  # quotes specials such as "," in the name
    return f"{_encoded(name)} <{address}>"


_PART_HEAD = 'Content-Type: {}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'


def _base64_part(content_type: str, text: str) -> bytes:
    # One base64 pass cut into 76-character lines: the same text as
    # base64.encodebytes, which encodes line by line, at half the cost.
    encoded = binascii.b2a_base64(text.encode("utf-8"), newline=False)
    lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
    lines.append(b"")
    return _PART_HEAD.format(content_type).encode("ascii") + b"\r\n".join(lines)


@functools.lru_cache(maxsize=4)
def _date(second: datetime, zone: tzinfo | None) -> str:
    """The Date header, to the second: every message of a round shares it.

    The zone is part of the key: 09:00+08:00 equals 01:00Z but is written differently.
    """
    return format_datetime(second)


def render_message(item: Outgoing, *, mail_from: str, now: datetime) -> bytes:
    """The wire form: multipart/alternative (plain text, then HTML), 7-bit clean.

    Written by hand rather than with `email.message.EmailMessage`, whose header
    registry costs ~8 ms a message — more than the SMTP exchange itself.  Tests
    parse the result with the standard library to check it.  The few messages
    with attachments (a weekly report a week) are built by `EmailMessage`.
    """
    digest = _digest(item.dedup_key)
    mid = _message_id(item.id, digest, sender_domain(mail_from))
    if item.attachments:
        return _render_with_attachments(item, mail_from=mail_from, now=now, message_id=mid)
    # "=_" never occurs in base64, so the boundary cannot collide with a body.
    boundary = f"=_gongzhi_{item.id}_{digest[:12]}"
    headers = [
        f"From: {_address(mail_from)}",
        f"To: {_address(item.to_address)}",
        f"Subject: {_encoded(item.subject)}",
        f"Date: {_date(now.replace(microsecond=0), now.tzinfo)}",
        f"Message-ID: {mid}",
        "MIME-Version: 1.0",
        # RFC 3834: stops out-of-office replies from flooding the sender mailbox.
        "Auto-Submitted: auto-generated",
        f"X-Gongzhi-Kind: {_encoded(item.kind)}",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    sep = f"--{boundary}\r\n".encode("ascii")
    return b"".join([
        "\r\n".join(headers).encode("ascii"), b"\r\n\r\n",
        sep, _base64_part("text/plain", item.body_text), b"\r\n",
        sep, _base64_part("text/html", item.body_html), b"\r\n",
        f"--{boundary}--\r\n".encode("ascii"),
    ])


def _render_with_attachments(item: Outgoing, *, mail_from: str, now: datetime, message_id: str) -> bytes:
    """multipart/mixed: the same alternative text and HTML, then each file (RFC 2231 names)."""
    # Not named `message`: the catalogs' extraction takes message[...] for a lookup.
    mime = EmailMessage(policy=email.policy.SMTP)
    mime["From"] = _one_line(mail_from)
    mime["To"] = _one_line(item.to_address)
    mime["Subject"] = _one_line(item.subject)
    mime["Date"] = format_datetime(now.replace(microsecond=0))
    mime["Message-ID"] = message_id
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-Gongzhi-Kind"] = _one_line(item.kind)
    mime.set_content(item.body_text, charset="utf-8", cte="base64")
    mime.add_alternative(item.body_html, subtype="html", charset="utf-8", cte="base64")
    for attachment in item.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                              filename=_one_line(attachment.filename))
    return mime.as_bytes()


# ------------------------------------------------------------------ sending


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # certainly not delivered; try again later
    FAILED = "failed"  # the server refused it for good (5xx)
    UNKNOWN = "unknown"  # the body went out but the answer never came


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None
    # True when the connection cannot be used for the next message.
    connection_lost: bool = False


class ConnectError(Exception):
    """The server could not be reached or refused the session (retry later)."""


def _classify_reply(code: int, reply: bytes | str, stage: str) -> Result:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    error = f"{stage}: {code} {text}".strip()[:2000]
    if 400 <= code < 500:
        return Result(Outcome.RETRY, error, connection_lost=code == 421)
    return Result(Outcome.FAILED, error)


class SmtpConnection:
    """One authenticated SMTP session reused for many messages."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        cfg = self.config
        try:
            smtp: smtplib.SMTP
            if cfg.security == "tls":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, local_hostname=cfg.helo, timeout=cfg.timeout,
                                        context=cfg.tls_context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, local_hostname=cfg.helo, timeout=cfg.timeout)
            try:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=cfg.tls_context())
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPResponseException as exc:
            raise ConnectError(f"{cfg.redacted()}: {exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectError(f"{cfg.redacted()}: {exc.__class__.__name__}: {exc}") from exc
        self._smtp = smtp

    @property
    def is_open(self) -> bool:
        return self._smtp is not None

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _reset(self) -> None:
        assert self._smtp is not None
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def send(self, sender: str, recipient: str, data: bytes) -> Result:
        """Send one rendered message (`render_message`); never raises for SMTP or network trouble.

        MAIL and RCPT are answered before any of the body leaves, so a refusal
        or a broken line there is certainly not a delivery (retry).  `SMTP.data`
        sends the DATA command, then the body (dot-stuffed), then reads the
        final reply: a refusal of the command itself comes back as
        SMTPDataError and is classified like any reply.  A line that breaks
        inside `data` without an answer is `unknown`: the public API does not
        say whether the server had said 354 yet, and a message that may have
        been delivered must never be sent twice on a guess.
        """
        if self._smtp is None:
            return Result(Outcome.RETRY, "no SMTP connection", connection_lost=True)
        if any(c in recipient + sender for c in "\r\n") or "@" not in recipient:
            return Result(Outcome.FAILED, f"invalid address {recipient!r}")
        if not recipient.isascii():
            return Result(Outcome.FAILED, f"non-ASCII address {recipient!r} would need SMTPUTF8")
        smtp = self._smtp
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                return self._refused(code, reply, "MAIL FROM")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                return self._refused(code, reply, "RCPT TO")
        except (OSError, smtplib.SMTPException) as exc:
            # Nothing of the body has left: certainly not delivered.
            self._drop()
            return Result(Outcome.RETRY, f"{exc.__class__.__name__}: {exc}"[:2000], connection_lost=True)
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:  # the DATA command was refused: no body went out
            return self._refused(exc.smtp_code, exc.smtp_error, "DATA")
        except (OSError, smtplib.SMTPException) as exc:
            # The body may have gone out; the server may have queued it before the line broke.
            self._drop()
            return Result(Outcome.UNKNOWN, f"DATA: {exc.__class__.__name__}: {exc}"[:2000],
                          connection_lost=True)
        if code == 250:
            return Result(Outcome.SENT)
        return self._refused(code, reply, "end of DATA", reset=False)

    def _refused(self, code: int, reply: bytes | str, stage: str, *, reset: bool = True) -> Result:
        """The server said no to this message; 421 means it is closing the session too."""
        result = _classify_reply(code, reply, stage)
        if result.connection_lost:
            self._drop()
        elif reset:
            self._reset()
        return result
