"""GET /queue: the department's queue, the API's most read endpoint.

Authenticated and scoped like every other route: CurrentUser, then
shared.assignments.queue (queue_department, and rows it may keep while the
database's stamp says they hold).  The ETag is a hash of the body, so a client
polling an unchanged queue gets 304 and no body; the app's GZipMiddleware
compresses the rest.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

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
    session: SessionDep, user: CurrentUser, clock: ClockDep, settings: SettingsDep,
    department_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                               description="另一部门的工作台（仅协调员、领导、管理员）")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每个工作台返回的事项数")] = 50,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The department's queue: to accept, in progress, due soon, overdue, awaiting review.

    Sends an ETag; with If-None-Match the answer is 304 while the queue is unchanged.
    """
    body = queue_read.queue(session, user, clock.now(), department_id, limit, settings).model_dump_json().encode()
    # Weak: the same tag stands for the identity and the gzip-encoded representation.
    tag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    if _matches(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return Response(body, media_type="application/json", headers={"ETag": tag})
