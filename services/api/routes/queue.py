"""GET /queue: the department's queue, the API's most read endpoint.

Everything here is about what one request costs.  The answer itself is kept
and checked in shared.assignments.queue_cache; this module only turns the
request into (token, department asked for, limit) and the kept answer into a
response.

FastAPI's per-request parameter handling was measured at about a quarter of
the endpoint's CPU on a current copy (in-process, 0.41 against 0.30 ms), so
the two query parameters are read here by one pydantic model, whose errors go
through the same 422 handler as every other field's, and declared to OpenAPI
from that model's own schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from services.api.deps import bearer_or_cookie
from shared.assignments import queue_cache
from shared.assignments.schemas import QueueOut
from shared.errors import Unauthorized
from shared.ids import MAX_ID

router = APIRouter(tags=["assignments"])


class QueueQuery(BaseModel):
    department_id: int | None = Field(None, ge=1, le=MAX_ID,
                                      description="另一部门的工作台（仅协调员、领导、管理员）")
    limit: int = Field(50, ge=1, le=200, description="每个工作台返回的事项数")


_DEFAULT = QueueQuery()


def _parameters() -> list[dict[str, Any]]:
    schema = QueueQuery.model_json_schema()
    return [{"name": name, "in": "query", "required": False, "schema": prop,
             **({"description": prop["description"]} if "description" in prop else {})}
            for name, prop in schema["properties"].items()]


def _query(request: Request) -> QueueQuery:
    raw = request.scope.get("query_string", b"")
    if not raw:
        return _DEFAULT
    # As FastAPI reads any other query: the last value of a repeated name; "" is a value.
    try:
        return QueueQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def _etags(header: str | None) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")} if header else set()


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip (RFC 9110 12.5.3): named or "*", with q > 0."""
    if not header:
        return False
    star = False
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding == "*":
            star = q > 0
        else:
            return q > 0
    return star


@router.get("/queue", response_model=QueueOut, openapi_extra={"parameters": _parameters()},
            responses={304: {"description": "Not Modified: the queue is unchanged since the ETag sent"},
                       422: {"description": "Validation Error"}})
async def department_queue(request: Request) -> Response:
    """The department's queue: to accept, in progress, due within 2 working days, overdue.

    Sends an ETag; with If-None-Match the answer is 304 while the queue is unchanged.
    """
    # No session or user dependency: a request whose queue the process already
    # holds costs one small statement (shared.assignments.queue_cache), where
    # authentication and scope are checked.
    query = _query(request)
    token = bearer_or_cookie(request)
    if not token:
        raise Unauthorized()
    state = request.app.state
    reader = queue_cache.reader_for(state.engine)
    if reader.inline:
        answer = await reader.answer(state.clock, token, query.department_id, query.limit)
    else:
        answer = await run_in_threadpool(reader.answer_now, state.engine, state.clock, token,
                                         query.department_id, query.limit)
    # Kept compressed: 43 KB of JSON for a full page is 5 KB in gzip, and sending the
    # larger one costs the server more than compressing did, once per copy.
    request_headers = request.headers
    gzipped = accepts_gzip(request_headers.get("accept-encoding"))
    # Either representation's tag means the client holds this state of the queue.
    if not _etags(request_headers.get("if-none-match")).isdisjoint((answer.etag, answer.gzip_etag)):
        return Response(status_code=304, headers={"ETag": answer.gzip_etag if gzipped else answer.etag,
                                                  "Vary": "Accept-Encoding"})
    if gzipped:
        return _Prepared(answer.gzip_body, answer.gzip_headers)
    return _Prepared(answer.body, answer.headers)


class _Prepared(Response):
    """A kept answer with the headers prepared with it, not built again per request."""

    def __init__(self, body: bytes, raw_headers: tuple[tuple[bytes, bytes], ...]) -> None:
        self._prepared = raw_headers
        super().__init__(body)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        self.raw_headers = list(self._prepared)
