"""One place turns domain errors and validation failures into the JSON error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from shared.errors import DomainError, Invalid, InvalidTransition, Stale
from shared.i18n import MESSAGES, pick_language, translate

_PYDANTIC_REASONS = {
    "missing": "field_required",
    "string_too_long": "field_too_long",
    "string_too_short": "field_too_short",
    "too_long": "field_too_long",
    "too_short": "field_too_short",
    "greater_than_equal": "field_out_of_range",
    "less_than_equal": "field_out_of_range",
    "greater_than": "field_out_of_range",
    "less_than": "field_out_of_range",
    "enum": "field_not_allowed",
    "literal_error": "field_not_allowed",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def field_reason(err: dict[str, Any], lang: str) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    key = _PYDANTIC_REASONS.get(kind)
    if key == "field_too_long":
        return translate(key, lang, max=ctx.get("max_length", ""))
    if key == "field_too_short":
        return translate(key, lang, min=ctx.get("min_length", ""))
    if key == "field_not_allowed":
        return translate(key, lang, allowed=str(ctx.get("expected", "")))
    if key:
        return translate(key, lang)
    if kind == "value_error" and "error" in ctx and hasattr(ctx["error"], "args"):
        message_key = str(ctx["error"].args[0]) if ctx["error"].args else ""
        if message_key in MESSAGES:
            return translate(message_key, lang)
    return translate("field_invalid", lang)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        lang = pick_language(request.headers.get("accept-language"))
        body: dict[str, Any] = {"code": exc.key, "message": translate(exc.key, lang, **exc.params)}
        if isinstance(exc, InvalidTransition):
            body["current"] = exc.current
            body["allowed"] = exc.allowed
        if isinstance(exc, Stale):
            body["current_version"] = exc.params.get("current")
        if exc.params and not isinstance(exc, InvalidTransition):
            body["params"] = jsonable_encoder(exc.params)
        if isinstance(exc, Invalid):
            body = {
                "code": "validation_failed",
                "message": translate("validation_failed", lang),
                "fields": [{"field": exc.field, "reason": translate(exc.key, lang, **exc.params)}],
            }
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": body}, status_code=exc.status, headers=headers)

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # A value the database cannot hold slipped past validation: it is still the
        # client's input, so 422 — never a 500.  Nothing was committed.
        lang = pick_language(request.headers.get("accept-language"))
        return JSONResponse(
            {"error": {"code": "validation_failed", "message": translate("validation_failed", lang),
                       "fields": [{"field": "", "reason": translate("field_out_of_range", lang)}]}},
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = pick_language(request.headers.get("accept-language"))
        fields = [
            {"field": _field_name(tuple(e.get("loc", ()))), "reason": field_reason(e, lang)}
            for e in exc.errors()
        ]
        return JSONResponse(
            {"error": {"code": "validation_failed", "message": translate("validation_failed", lang),
                       "fields": fields}},
            status_code=422,
        )
