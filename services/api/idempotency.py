"""`Idempotency-Key` on every POST that creates something (see shared/idempotency/service.py).

A route opts in with `dependencies=[Idempotent]` on a router whose
`route_class` is `IdempotentRoute`.  With the header:

1. the dependency (after authentication) claims the key in the request's
   transaction — or answers the first response again, or 422 if the key was
   used for another request — and holds back the route's own commits, which
   become flushes;
2. the route runs as usual;
3. the route class takes the finished response and, if it is a success,
   stores status, ETag/Location and body in the same transaction and commits
   it: the change and its recorded answer are committed together or not at all.

A failed request stores nothing; its claim is rolled back with the rest, so a
retry with the same key runs again.  Without the header nothing changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from services.api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from shared.errors import Invalid, TooLarge
from shared.idempotency import service
from shared.idempotency.models import IdempotencyRecord

# The response headers a replay repeats (no-store too: a case answer may hold personal data);
# the body and status always.
KEPT_HEADERS = ("cache-control", "content-type", "etag", "location")
# Multipart boundaries, part headers and small extra fields around an uploaded file.
MULTIPART_SLACK = 64 * 1024


@dataclass
class _Pending:
    session: Session
    record: IdempotencyRecord
    _restore: Callable[[], None] = field(default=lambda: None)

    def finish(self, response: Response) -> None:
        self.restore()
        headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
        service.complete(self.session, self.record,
                         service.Answer(response.status_code, headers, bytes(response.body)))
        self.session.commit()  # the after-commit hook wakes the relay if the change queued mail

    def restore(self) -> None:
        self._restore()
        self._restore = lambda: None


def _hold_commits(session: Session, pending: _Pending) -> None:
    """Until the answer is known, the route's commit only flushes (see the module docstring)."""
    def flush_instead() -> None:
        session.flush()  # no commit, so no after-commit kick yet: the real commit in finish() does it

    session.commit = flush_instead  # type: ignore[method-assign]
    pending._restore = lambda: session.__dict__.pop("commit", None)


async def _fingerprint(request: Request, session: Session, max_upload_bytes: int) -> str:
    content_type = request.headers.get("content-type", "")
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    if content_type.startswith("multipart/form-data"):
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_upload_bytes + MULTIPART_SLACK:
            raise TooLarge(limit_mb=max_upload_bytes // (1024 * 1024))
        # Receiving the file can take long: end the sign-in's read first (on SQLite any
        # open transaction holds the write lock).  Nothing has been written yet.
        await run_in_threadpool(session.commit)
        body = await request.body()
        if len(body) > max_upload_bytes + MULTIPART_SLACK:
            raise TooLarge(limit_mb=max_upload_bytes // (1024 * 1024))
        # A client that retries builds the body again with a new random boundary: same request.
        boundary = content_type.partition("boundary=")[2].strip('"').encode()
        digest.update(body.replace(boundary, b"-") if boundary else body)
        return digest.hexdigest()
    body = await request.body()
    with contextlib.suppress(ValueError):  # not JSON: the bytes as they came
        # Same JSON, same request, however it was spaced or ordered.
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    digest.update(body)
    return digest.hexdigest()


async def idempotency_key(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    clock: ClockDep,
    settings: SettingsDep,
    key: Annotated[str | None, Header(
        alias=service.HEADER,
        description="可选。同一用户 24 小时内以同一键重发的请求不再执行，返回首次的应答（状态、ETag/Location、内容）；"
                    "同一键配不同请求内容返回 422。Optional: a replay by the same user within 24 h returns the "
                    "first answer without acting again; the same key with a different body is refused (422).",
        max_length=255,
    )] = None,
) -> None:
    if key is None:
        return
    if not service.valid_key(key):
        raise Invalid(service.HEADER, "idempotency_key_invalid")
    if not isinstance(request.scope.get("route"), IdempotentRoute):
        raise RuntimeError("Idempotent needs a router with route_class=IdempotentRoute")  # nobody would commit
    fingerprint = await _fingerprint(request, session, settings.max_upload_bytes)
    req = service.Request(user_id=user.id, key=key, method=request.method,  # type: ignore[arg-type]
                          path=request.url.path, fingerprint=fingerprint)
    record = await run_in_threadpool(service.claim, session, req, clock.now())
    pending = _Pending(session, record)
    _hold_commits(session, pending)
    request.state.idempotency = pending


Idempotent = Depends(idempotency_key)


def _replayed(answer: service.Answer) -> Response:
    response = Response(content=answer.body, status_code=answer.status_code)
    response.headers.update(answer.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


class IdempotentRoute(APIRoute):
    """Finishes what the `Idempotent` dependency started: the answer is committed with the change."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except service.Replay as replay:
                return _replayed(replay.answer)
            finally:
                pending: _Pending | None = getattr(request.state, "idempotency", None)
                if pending is not None:
                    pending.restore()
            if pending is not None and 200 <= response.status_code < 300:
                await run_in_threadpool(pending.finish, response)
            return response

        return run
