"""One-time form tokens: a page form acts once, however often it is posted.

Every form a page renders carries its own token ``nonce.issued.signature``: a
random nonce, the second it was issued, and an HMAC of both with the server's
secret and the session that rendered it.  So the token is also the CSRF check
(another site can make the browser post, but cannot compute a token for the
victim's session), it dies with its session, and it expires after
``TOKEN_TTL``.

Using a token inserts its nonce into ``form_token_use`` in the same transaction
as the change the form makes.  A second post of the same form — a double click,
F5 on a page that was not redirected, the back button — finds the row and changes
nothing.  Two posts at the same moment race on the primary key: the second waits
for the first transaction and, once it has committed, finds the row.  A refused
change rolls back together with its row, so the user can correct the form and
send the same token again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from shared.forms.models import FormTokenUse

# A working day and then some; a page session does not last longer (token_ttl_hours, 12 by default).
TOKEN_TTL = timedelta(hours=12)
_PURPOSE = "gongzhi-form"


class TokenRefused(Exception):
    """Missing, malformed, not made for this session, or expired (``expired`` says which)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class FormToken:
    nonce: str
    issued_at: datetime


def _signature(secret: str, binding: str, nonce: str, issued: int) -> str:
    bound = hashlib.sha256(binding.encode()).hexdigest()
    mac = hmac.new(secret.encode(), f"{_PURPOSE}:{bound}:{nonce}:{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(secret: str, binding: str, now: datetime) -> str:
    """A fresh token for one form, bound to BINDING (the session token of the page's viewer)."""
    nonce = secrets.token_urlsafe(16)
    issued = int(now.timestamp())
    return f"{nonce}.{issued}.{_signature(secret, binding, nonce, issued)}"


def verify(secret: str, binding: str, token: str | None, now: datetime, ttl: timedelta = TOKEN_TTL) -> FormToken:
    """The token's nonce if it was made for BINDING and has not expired; else TokenRefused."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[0]) > 32 or len(parts[1]) > 12:
        raise TokenRefused()
    nonce, issued_text, given = parts
    expected = _signature(secret, binding, nonce, int(issued_text))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise TokenRefused()
    issued_at = datetime.fromtimestamp(int(issued_text), UTC)
    if issued_at + ttl < now:
        raise TokenRefused(expired=True)
    return FormToken(nonce, issued_at)


def body_digest(fields: Mapping[str, str], *, ignore: tuple[str, ...] = ()) -> str:
    """What a form posted, as a digest: the same form sent again gives the same one."""
    kept = sorted((k, v) for k, v in fields.items() if k not in ignore)
    return hashlib.sha256(json.dumps(kept, ensure_ascii=False).encode()).hexdigest()


def claim(session: Session, token: FormToken, user_id: int, now: datetime,
          body_sha256: str = "") -> FormTokenUse | None:
    """Mark the token used in the caller's transaction; the earlier use when it was used already.

    Also forgets this user's uses older than TOKEN_TTL: those tokens are refused as
    expired anyway, and pruning one user's rows contends with nobody else.
    """
    session.execute(delete(FormTokenUse).where(col(FormTokenUse.user_id) == user_id,
                                               col(FormTokenUse.used_at) < now - TOKEN_TTL))
    table = FormTokenUse.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(table).values(nonce=token.nonce, user_id=user_id, used_at=now, body_sha256=body_sha256)
            .on_conflict_do_nothing(index_elements=["nonce"]).returning(table.c.nonce))
    if session.execute(stmt).first() is not None:
        return None
    # The other transaction has committed by now (the insert waited for it): read its row.
    earlier = session.scalars(select(FormTokenUse).where(col(FormTokenUse.nonce) == token.nonce)
                              .execution_options(populate_existing=True)).first()
    return earlier or FormTokenUse(nonce=token.nonce, user_id=user_id, used_at=now)


def record_result(session: Session, nonce: str, path: str) -> None:
    """Where the form's action led, so that a replay of it is sent to the same page."""
    session.execute(FormTokenUse.__table__.update()  # type: ignore[attr-defined]
                    .where(FormTokenUse.__table__.c.nonce == nonce)  # type: ignore[attr-defined]
                    .values(result_path=path[:300]))


def release(session: Session, nonce: str) -> None:
    """Forget a use in the caller's transaction: the form did nothing, yet the transaction commits."""
    session.execute(delete(FormTokenUse).where(col(FormTokenUse.nonce) == nonce))
