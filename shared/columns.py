"""Column helpers shared by the tables, so every timestamp is aware UTC and every enum an enum."""

from __future__ import annotations

from enum import Enum
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from shared.db import UTCDateTime


class StrEnumType(TypeDecorator[Any]):
    """An enum stored as plain VARCHAR: adding a state needs no ALTER TYPE or CHECK change."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[Enum], length: int = 24) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(self.enum_cls(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum_cls(value)


def utc_field(*, nullable: bool = False, index: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


def enum_field(enum_cls: type[Enum], default: Any = ..., *, length: int = 24, index: bool = False,
               nullable: bool = False, **kwargs: Any) -> Any:
    return Field(default=default, sa_type=StrEnumType(enum_cls, length), index=index, nullable=nullable,
                 **kwargs)
