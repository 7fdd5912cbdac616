"""Domain errors carry an HTTP status and a message key; one handler renders them."""

from __future__ import annotations

from typing import Any

from shared.i18n import N_


class DomainError(Exception):
    status = 400
    key = N_("error")

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class NotFound(DomainError):
    status = 404
    key = N_("not_found")


class Forbidden(DomainError):
    status = 403
    key = N_("forbidden")


class Unauthorized(DomainError):
    status = 401
    key = N_("unauthorized")


class Conflict(DomainError):
    status = 409
    key = N_("conflict")


class InvalidTransition(Conflict):
    key = N_("invalid_transition")

    def __init__(self, current: str, action: str, allowed: list[str]) -> None:
        super().__init__(current=current, action=action, allowed=allowed)
        self.current, self.action, self.allowed = current, action, allowed


class Stale(DomainError):
    status = 412
    key = N_("stale")


class PreconditionRequired(DomainError):
    status = 428
    key = N_("precondition_required")


class Invalid(DomainError):
    """Bad input caught by a domain rule rather than by schema validation."""

    status = 422
    key = N_("invalid")

    def __init__(self, field: str, key: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field


class TooLarge(DomainError):
    status = 413
    key = N_("too_large")


class UnsupportedMedia(DomainError):
    status = 415
    key = N_("unsupported_media")


class TooManyRequests(DomainError):
    status = 429
    key = N_("too_many_requests")
