"""Optimistic locking: every mutable row carries a version; a stale write is refused."""

from __future__ import annotations

from typing import Any, Protocol

from shared.errors import Stale


class Versioned(Protocol):
    version: int


def check_version(obj: Versioned, expected: int) -> None:
    if obj.version != expected:
        raise Stale(current=obj.version)


def bump(obj: Any, now: Any = None) -> None:
    obj.version += 1
    if now is not None and hasattr(obj, "updated_at"):
        obj.updated_at = now
