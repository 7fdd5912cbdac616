"""Security headers on every answer the app gives: pages, JSON, files, redirects and errors.

Pages load nothing but our own stylesheet and scripts: no inline script or style
(the templates have none; tests/test_security_headers.py checks), never framed,
and the address of a case page is not sent to another site.  JSON gets the
strictest policy, since a browser should never render it.  An answer that set
its own Content-Security-Policy keeps it: an uploaded file is sandboxed
(routes/attachments.py), and the Swagger UI page allows its one inline script by
hash (docs.py, ``policy_with_inline_scripts``).

It is a plain ASGI middleware, outermost of ours, so it also covers the 500s the
API boundary writes; a page that fails unexpectedly gets a short 500 here, with
the headers, instead of the server's bare one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import uuid

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.caching import NO_STORE_HEADERS
from shared.i18n import pick_language, translate

log = logging.getLogger(__name__)

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    # For browsers older than frame-ancestors (some office PCs still run them).
    (b"x-frame-options", b"DENY"),
)

_NO_STORE = [(name.lower().encode(), value.encode()) for name, value in NO_STORE_HEADERS.items()]

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def policy_with_inline_scripts(html: str) -> str:
    """The page policy, also allowing exactly the inline scripts of HTML (by their sha256)."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]
    return PAGE_POLICY.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]), 1)


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.split(b";")[0].strip().lower().endswith(b"json")
    return False


def with_security_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """RAW plus whichever of our headers it does not set itself; never framed, whatever its own policy."""
    present = {name.lower() for name, _ in raw}
    out = [(name, value + b"; frame-ancestors 'none'")
           if name.lower() == b"content-security-policy" and b"frame-ancestors" not in value else (name, value)
           for name, value in raw]
    out.extend((name, value) for name, value in COMMON if name not in present)
    if b"content-security-policy" not in present:
        policy = JSON_POLICY if _is_json(raw) else PAGE_POLICY
        out.append((b"content-security-policy", policy.encode()))
    return out


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(event: Message) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
                event = {**event, "headers": with_security_headers(list(event.get("headers", [])))}
            await send(event)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            # Only a page gets here (the API boundary answers its own 500s): log it with the
            # reference the user is shown, as the API does.
            reference = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", reference, scope.get("method"), scope.get("path"))
            lang = pick_language(Headers(scope=scope).get("accept-language"))
            body = translate("internal_error", lang, reference=reference) + "\n"
            await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), *_NO_STORE]})
            await send({"type": "http.response.body", "body": body.encode()})
