"""One error shape for the whole JSON API, whatever went wrong.

    {"error": {"code": "validation_failed", "message": "输入校验未通过",
               "fields": [{"field": "participant_department_ids[1]", "reason": "应为整数"}]}}

`code` is stable and meant for programs, `message` and each `reason` are for
people, in zh-CN or English by Accept-Language.  `fields` is always there
(empty when the error is not about a field).  Some errors add members: a 409
for an illegal transition its `current` state and the `allowed` actions, a 412
the `current_version`.

Domain errors, validation failures, an unknown path (404), a wrong method
(405), a body that is not JSON or is nested too deep, and an unexpected
exception (500) all answer this way under /api/.  Other paths (the pages)
keep their own HTML errors.
"""

from __future__ import annotations

import logging
import re
import uuid
from html import escape as html_escape
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import DomainError, Invalid, InvalidTransition, Stale
from shared.i18n import N_, has_message, pick_language, translate
from shared.inputs import json_input

API_PATH = "/api/"
# PostgreSQL's query_canceled: the statement timeout (or a cancel request) stopped a statement.
QUERY_CANCELED = "57014"
log = logging.getLogger("gongzhi.api")

_PYDANTIC_REASONS = {
    "missing": "field_required",
    "string_too_long": "field_too_long",
    "string_too_short": "field_too_short",
    "too_long": N_("list_too_long"),
    "too_short": N_("list_too_short"),
    "greater_than_equal": "field_out_of_range",
    "less_than_equal": "field_out_of_range",
    "greater_than": "field_out_of_range",
    "less_than": "field_out_of_range",
    "enum": "field_not_allowed",
    "literal_error": "field_not_allowed",
    "int_type": N_("field_not_integer"),
    "int_parsing": N_("field_not_integer"),
    "int_from_float": N_("field_not_integer"),
    "bool_type": N_("field_not_boolean"),
    "bool_parsing": N_("field_not_boolean"),
    "decimal_type": N_("field_not_number"),
    "decimal_parsing": N_("field_not_number"),
    "string_type": N_("field_not_text"),
    "text_control": N_("field_text_control"),
    "list_type": N_("field_not_list"),
    "model_type": N_("field_not_object"),
    "model_attributes_type": N_("field_not_object"),
    "dict_type": N_("field_not_object"),
    "extra_forbidden": N_("field_unknown"),
}

# Parts of a pydantic location that are not field names: union members ("DayIn",
# "function-after[...]").  Our fields are snake_case.
_NOT_A_FIELD = re.compile(r"^[A-Z]|[\[\]()]")


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`participant_department_ids[1]`, `holidays[0].date` — the field as the client wrote it."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part in ("body", "query", "path", "header", "cookie") and not name:
            continue
        elif isinstance(part, str) and not _NOT_A_FIELD.search(part):
            name += f".{part}" if name else part
    return name


def _dotted_indexes(field: str) -> str:
    """Domain errors may name a list item as `holidays.1`; said the same way as above."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", field)


def field_reason(err: dict[str, Any], lang: str) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    key = _PYDANTIC_REASONS.get(kind)
    if key in ("field_too_long", "list_too_long"):
        return translate(key, lang, max=ctx.get("max_length", ""))
    if key in ("field_too_short", "list_too_short"):
        return translate(key, lang, min=ctx.get("min_length", ""))
    if key == "field_not_allowed":
        return translate(key, lang, allowed=str(ctx.get("expected", "")))
    if key == "field_out_of_range":
        bounds = {k: ctx[k] for k in ("ge", "le", "gt", "lt") if k in ctx}
        if bounds:
            return translate("field_out_of_range_bounds", lang, bounds=_bounds(bounds))
    if key:
        return translate(key, lang)
    if kind == "value_error" and "error" in ctx and hasattr(ctx["error"], "args"):
        message_key = str(ctx["error"].args[0]) if ctx["error"].args else ""
        if has_message(message_key):
            return translate(message_key, lang)
    return translate("field_invalid", lang)


def _bounds(bounds: dict[str, Any]) -> str:
    signs = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<"}
    return ", ".join(f"{signs[k]} {v}" for k, v in bounds.items())


def language(request: Request) -> str:
    return pick_language(request.headers.get("accept-language"))


def envelope(code: str, message: str, fields: list[dict[str, str]] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or [], **extra}}


def error_response(request: Request, status: int, key: str, *, fields: list[dict[str, str]] | None = None,
                   headers: dict[str, str] | None = None, **params: Any) -> JSONResponse:
    lang = language(request)
    return JSONResponse(envelope(key, translate(key, lang, **params), fields), status_code=status,
                        headers=headers)


def _validation_fields(errors: list[dict[str, Any]], lang: str) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for e in errors:
        name = field_name(tuple(e.get("loc", ())))
        index = (e.get("ctx") or {}).get("index")
        if isinstance(index, int):
            name += f"[{index}]"
        item = (name, field_reason(e, lang))
        if item not in seen:  # a union reports each member's failure; once per field and reason is enough
            seen.add(item)
            fields.append({"field": item[0], "reason": item[1]})
    return fields


def install(app: FastAPI) -> None:
    app.add_middleware(ApiBoundary)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        lang = language(request)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidTransition):
            extra = {"current": exc.current, "allowed": exc.allowed}
        elif exc.params:  # what the message names, for programs (e.g. the open assignment's id)
            extra = {"params": jsonable_encoder(exc.params)}
        if isinstance(exc, Stale) and "current" in exc.params:
            extra["current_version"] = exc.params["current"]
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, Invalid):
            body = envelope("validation_failed", translate("validation_failed", lang),
                            [{"field": _dotted_indexes(exc.field), "reason": translate(exc.key, lang, **exc.params)}])
        else:
            body = envelope(exc.key, translate(exc.key, lang, **exc.params), **extra)
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot hold slipped past validation: it is still the
        # client's input, so 422 — never a 500.  Nothing was committed.
        lang = language(request)
        return JSONResponse(envelope("validation_failed", translate("validation_failed", lang),
                                     [{"field": "", "reason": translate("field_out_of_range", lang)}]),
                            status_code=422)

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Input is checked before anything is written (shared/references.py), so this is a
        # race lost to another request (two creations of one unique name): a conflict.
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(request, 409, "conflict")

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, exc: OperationalError) -> Response:
        # A statement the statement timeout cancelled (a search too broad for its indexes), or a
        # database that cannot be reached: the request changed nothing and may be tried again,
        # so 503 with Retry-After and a sentence a person can act on, never a bare 500.
        cancelled = getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED
        key = N_("query_timeout") if cancelled else N_("database_unavailable")
        log.warning("%s on %s %s: %s", key, request.method, request.url.path, exc.orig)
        headers = {"Retry-After": "5"}
        if request.url.path.startswith(API_PATH):
            return error_response(request, 503, key, headers=headers)
        lang = language(request)
        title = html_escape(translate("page.error.title", lang))
        text = html_escape(translate(key, lang))
        # No page template here: the page's own dependencies (the session) are what failed.
        return HTMLResponse(f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{title}</title>'
                            f"<h1>503 · {title}</h1><p>{text}</p></html>", status_code=503, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = language(request)
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(request, 422, "json_invalid")
        whole_body = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
        if whole_body:
            key = N_("body_required") if whole_body[0].get("type") == "missing" else N_("body_not_object")
            return error_response(request, 422, key)
        return JSONResponse(envelope("validation_failed", translate("validation_failed", lang),
                                     _validation_fields(errors, lang)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith(API_PATH):
            return await http_exception_handler(request, exc)
        cause = exc.__cause__
        if exc.status_code == 400 and isinstance(cause, RecursionError):
            return error_response(request, 422, "json_too_deep")
        if exc.status_code == 400 and isinstance(cause, ValueError):  # not UTF-8, not JSON
            return error_response(request, 422, "json_invalid")
        key = {404: N_("route_not_found"), 405: N_("method_not_allowed")}.get(exc.status_code, "error")
        return error_response(request, exc.status_code, key, headers=dict(exc.headers or {}))


class ApiBoundary:
    """Around every /api/ request: JSON typing rules for its input, and a 500 in the envelope.

    An exception nobody handled is logged here with a reference the client is
    shown, and answered without re-raising it: re-raised, the server would also
    drop the kept-alive connection, failing the client's next request too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PATH):
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(event: Message) -> None:
            nonlocal started
            started = started or event["type"] == "http.response.start"
            await send(event)

        try:
            with json_input():
                await self.app(scope, receive, watch)
        except Exception:
            if started:
                raise
            reference = uuid.uuid4().hex[:12]
            log.exception("unhandled error %s on %s %s", reference, scope["method"], scope["path"])
            request = Request(scope)
            response = error_response(request, 500, "internal_error", reference=reference)
            await response(scope, receive, send)
