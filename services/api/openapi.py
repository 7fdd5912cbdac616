"""The OpenAPI document as a client needs it: errors, authentication and links.

FastAPI writes the operations and their schemas; this adds what it cannot know:

- the error envelope (services/api/errors.py) as the `Error` component, and the
  answers each operation can give with it — 401 and 403 where a token is
  needed, 404 where the path names an object, 409 for changes, 412/428 where
  If-Match is required, 422 where there is input;
- bearer authentication (`securitySchemes`), required by every operation but
  those in PUBLIC;
- links from what an operation creates or returns to the operations on it
  (a case → its assignments, an assignment → accept it with the version just
  read), so clients and the stateful fuzzer can follow them.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PUBLIC = frozenset({("post", "/api/v1/auth/login"), ("get", "/api/v1/health")})
"""The only operations that answer without a token."""

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs: validation_failed, stale, …"},
                "message": {"type": "string", "description": "For people, in zh-CN or English (Accept-Language)"},
                "fields": {
                    "type": "array",
                    "description": "Field errors; empty when the error is not about a field",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {
                            "field": {"type": "string", "examples": ["participant_department_ids[1]"]},
                            "reason": {"type": "string"},
                        },
                    },
                },
                "current": {"type": "string", "description": "409 on an illegal transition: the current state"},
                "allowed": {"type": "array", "items": {"type": "string"},
                            "description": "409 on an illegal transition: the actions allowed now"},
                "current_version": {"type": "integer", "description": "412: the record's version now"},
                "params": {"type": "object", "description": "The values the message names, for programs"},
            },
        }
    },
}

_ANSWERS = {
    "401": "Not signed in: no token, an expired or revoked one (login: wrong username or password)",
    "403": "Signed in, but your role or department may not do this",
    "404": "No such object within your reach",
    "409": "Conflicts with the current state (an illegal transition names the allowed actions)",
    "412": "If-Match names another version than the current one, or none we issued",
    "422": "Invalid input: each field error names the field and the reason",
    "428": "If-Match is missing (or *): send the ETag you read",
    "429": "Too many attempts; wait and retry",
}

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_PATH_PARAM = re.compile(r"{([^}]+)}")


def _error_answer(status: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    description = (existing or {}).get("description") or _ANSWERS[status]
    if description == "Validation Error":
        description = _ANSWERS[status]
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _declare_errors(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    public = (method, path) in PUBLIC
    statuses: list[str] = []
    if not public:
        statuses += ["401", "403"]
        operation["security"] = [{"bearer": []}]
    else:
        operation["security"] = []
    if any(name.endswith("_id") for name in _PATH_PARAM.findall(path)):
        statuses.append("404")
    if method != "get" and not public and not path.endswith("/logout"):
        statuses.append("409")
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in parameters):
        statuses += ["412", "428"]
    if parameters or "requestBody" in operation or "422" in responses:
        statuses.append("422")
    if (method, path) == ("post", "/api/v1/auth/login"):
        statuses += ["401", "429"]  # wrong username or password; too many attempts
    for status in statuses:
        responses[status] = _error_answer(status, responses.get(status))
    for status, answer in responses.items():  # errors a route declared itself (413, 415…) use the envelope too
        if status.startswith(("4", "5")) and "content" not in answer:
            answer["content"] = {"application/json": {"schema": _ERROR_REF}}


def _resource(schema_name: str) -> str | None:
    """CasePublic → case, ExtensionPublic → extension."""
    if not schema_name.endswith("Public"):
        return None
    return re.sub(r"(?<!^)(?=[A-Z])", "_", schema_name.removesuffix("Public")).lower()


def _link(target: dict[str, Any], target_path: str, resource: str,
          properties: dict[str, Any]) -> dict[str, Any] | None:
    parameters: dict[str, str] = {}
    for name in _PATH_PARAM.findall(target_path):
        if name == f"{resource}_id":
            parameters[f"path.{name}"] = "$response.body#/id"
        elif name in properties:
            parameters[f"path.{name}"] = f"$response.body#/{name}"
        else:
            return None
    if f"{resource}_id" not in _PATH_PARAM.findall(target_path):
        return None
    wants_version = any(p.get("in") == "header" and p.get("name", "").lower() == "if-match"
                        for p in target.get("parameters", []))
    if wants_version and "version" in properties:
        parameters["header.If-Match"] = "$response.body#/version"
    return {"operationId": target["operationId"], "parameters": parameters}


def _add_links(document: dict[str, Any]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    for _path, _method, operation in operations:
        for status in ("200", "201"):
            answer = operation.get("responses", {}).get(status, {})
            ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            resource = _resource(name)
            properties = schemas.get(name, {}).get("properties", {})
            if resource is None or "id" not in properties:
                continue
            links: dict[str, Any] = {}
            for target_path, _target_method, target in operations:
                link = _link(target, target_path, resource, properties)
                if link is not None:
                    links[target["operationId"]] = link
            if links:
                answer["links"] = links


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer",
                   "description": "The token from POST /api/v1/auth/login: `Authorization: Bearer <token>`"},
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            _declare_errors(path, method, operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    _add_links(schema)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
