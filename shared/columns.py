"""Column helpers shared by the tables, so every timestamp is aware UTC."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field

from shared.db import UTCDateTime


def utc_field(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


def enum_field(default: Any = ..., *, length: int = 24, index: bool = False, **kwargs: Any) -> Any:
    """Enums are stored as plain strings: adding a state needs no ALTER TYPE."""
    return Field(default=default, sa_type=String(length), index=index, **kwargs)


