"""GET /queue: the department's queue, the API's most read endpoint.

Authenticated and scoped like every other route: CurrentUser, then
shared.assignments.queue (queue_department decides whose queue; the rows and
answers it keeps, and what invalidates them, are described there).  The ETag is
a hash of the body, so a client polling an unchanged queue gets 304 and no
body.  The body, its ETag and its gzip encoding are kept with the rows, so a
client that accepts gzip gets the kept encoding, at the app's GZipMiddleware
level; the middleware passes an encoded answer through.

The route runs on the event loop: when the sign-in and the answer are both
kept (shared.users.kept_tokens, queue.kept_body) it answers without a
statement or a thread; otherwise it reads in the thread pool.  The query is
parsed by one pydantic model (`QueueQuery`) here rather than by FastAPI's
parameter machinery, which cost more per request than the rest of a kept
answer (BENCHMARKS.md §1); a bad value is the same 422 naming the field, and
the OpenAPI document declares the parameters from the same model.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from services.api.app import GZIP_LEVEL
from services.api.deps import CurrentUser
from services.api.routes import api_router
from shared.assignments import queue as queue_read
from shared.assignments.schemas import QueueOut
from shared.ids import MAX_ID
from shared.settings import Settings
from shared.users.models import User

router = api_router(tags=["assignments"])


class QueueQuery(BaseModel):
    department_id: int | None = Field(None, ge=1, le=MAX_ID, description="另一部门的工作台（仅协调员、领导、管理员）")
    limit: int = Field(50, ge=1, le=200, description="每个工作台返回的事项数")


_DEFAULT = QueueQuery()
_NAMES = tuple(QueueQuery.model_fields)
_PARAMETERS = [{"name": name, "in": "query", "required": False, "description": schema.get("description"),
                "schema": schema}
               for name, schema in QueueQuery.model_json_schema()["properties"].items()]


def _query(request: Request) -> QueueQuery:
    """The query string through QueueQuery; unknown parameters are ignored, a repeated one's last value counts."""
    params = request.query_params
    if not params:
        return _DEFAULT
    try:
        return QueueQuery.model_validate({name: params[name] for name in _NAMES if name in params})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def _matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    return any(t.strip() in ("*", tag, tag.removeprefix("W/")) for t in if_none_match.split(","))


def _read_body(engine: Engine, user: User, now: datetime, department_id: int | None, limit: int,
               settings: Settings) -> queue_read.QueueBody:
    with Session(engine, expire_on_commit=False) as session:
        return queue_read.queue_body(session, user, now, department_id, limit, settings)


@router.get("/queue", response_model=QueueOut, openapi_extra={"parameters": _PARAMETERS},
            responses={304: {"description": "Not Modified: the queue is unchanged since the ETag sent"}})
async def department_queue(request: Request, user: CurrentUser) -> Response:
    """The department's queue: to accept, in progress, due soon, overdue, awaiting review.

    Sends an ETag; with If-None-Match the answer is 304 while the queue is unchanged.
    """
    query = _query(request)
    department_id, limit = query.department_id, query.limit
    state = request.app.state
    now = state.clock.now()
    body = queue_read.kept_body(state.engine, user, now, department_id, limit, state.settings)
    if body is None:
        body = await run_in_threadpool(_read_body, state.engine, user, now, department_id, limit, state.settings)
    headers = request.headers
    if _matches(headers.get("if-none-match"), body.etag):
        return Response(status_code=304, headers={"ETag": body.etag})
    # GZipMiddleware's rule for whether the client accepts gzip.
    encoded = body.gzipped(GZIP_LEVEL) if "gzip" in headers.get("accept-encoding", "") else None
    if encoded is not None:
        return Response(encoded, media_type="application/json",
                        headers={"ETag": body.etag, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body.json, media_type="application/json", headers={"ETag": body.etag})
