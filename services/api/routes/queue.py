"""GET /queue: the department's queue, the API's most read endpoint.

Authenticated and scoped like every other route: CurrentUser, then
shared.assignments.queue (queue_department, and rows it may keep while the
database's stamp says they hold).  The ETag is a hash of the body, so a client
polling an unchanged queue gets 304 and no body.  The body, its ETag and its
gzip encoding are kept with the rows (queue_body), so a client that accepts
gzip gets the kept encoding, at the app's GZipMiddleware level; the middleware
passes an encoded answer through.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from services.api.app import GZIP_LEVEL
from services.api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from shared.assignments import queue as queue_read
from shared.assignments.schemas import QueueOut
from shared.ids import MAX_ID

router = APIRouter(tags=["assignments"])


def _matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    return any(t.strip() in ("*", tag, tag.removeprefix("W/")) for t in if_none_match.split(","))


@router.get("/queue", response_model=QueueOut,
            responses={304: {"description": "Not Modified: the queue is unchanged since the ETag sent"}})
def department_queue(
    request: Request, session: SessionDep, user: CurrentUser, clock: ClockDep, settings: SettingsDep,
    department_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                               description="另一部门的工作台（仅协调员、领导、管理员）")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每个工作台返回的事项数")] = 50,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The department's queue: to accept, in progress, due soon, overdue, awaiting review.

    Sends an ETag; with If-None-Match the answer is 304 while the queue is unchanged.
    """
    body = queue_read.queue_body(session, user, clock.now(), department_id, limit, settings)
    if _matches(if_none_match, body.etag):
        return Response(status_code=304, headers={"ETag": body.etag})
    # GZipMiddleware's rule for whether the client accepts gzip.
    encoded = body.gzipped(GZIP_LEVEL) if "gzip" in request.headers.get("accept-encoding", "") else None
    if encoded is not None:
        return Response(encoded, media_type="application/json",
                        headers={"ETag": body.etag, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body.json, media_type="application/json", headers={"ETag": body.etag})
