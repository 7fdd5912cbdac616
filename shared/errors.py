"""Domain errors carry an HTTP status and a message key; one handler renders them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    key = "error"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotFound(DomainError):
    status = 404
    key = "not_found"


class Forbidden(DomainError):
    status = 403
    key = "forbidden"


class Unauthorized(DomainError):
    status = 401
    key = "unauthorized"


class Conflict(DomainError):
    status = 409
    key = "conflict"


class InvalidTransition(Conflict):
    key = "invalid_transition"

    def __init__(self, current: str, action: str, allowed: list[str]) -> None:
        super().__init__(current=current, action=action, allowed=allowed)
        self.current, self.action, self.allowed = current, action, allowed


class Stale(DomainError):
    status = 412
    key = "stale"


class PreconditionRequired(DomainError):
    status = 428
    key = "precondition_required"


class Invalid(DomainError):
    """Bad input caught by a domain rule rather than by schema validation."""

    status = 422
    key = "invalid"

    def __init__(self, field: str, key: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field


class TooLarge(DomainError):
    status = 413
    key = "too_large"


class UnsupportedMedia(DomainError):
    status = 415
    key = "unsupported_media"


class TooManyRequests(DomainError):
    status = 429
    key = "too_many_requests"
