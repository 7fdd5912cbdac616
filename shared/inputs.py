"""`Input`, the base of every schema that reads what a client sends.

It refuses, whatever the field:

- text containing control characters other than tab and line breaks (NUL
  U+0000 above all: PostgreSQL cannot store it in a text column), or the
  non-characters U+FFFE/U+FFFF: no person types them, and the Word and Excel
  files the reports put that text in (XML 1.0) cannot hold them;
- a boolean where a number is expected: `"lead_department_id": true` is not
  department 1 (Python counts True as 1, pydantic's lax mode too).

The same schemas read two kinds of input.  A JSON body carries types, so there
a number must be a JSON number and a yes/no a JSON boolean: `"5"` and `1` are
refused; `5.0` is 5, as JSON Schema's "integer" says, and `5.5` is no integer.
An HTML form carries only text, so the pages hand these schemas `"5"` and it
is read as 5.  The API marks its requests with `json_input()` (the ApiBoundary
middleware of services/api/errors.py); anything else — pages, CLI, workers —
reads leniently, booleans still refused.

Checked in a `before` validator over every field rather than with annotated
types, so that each field keeps pydantic's own constraints (`max_length`, `ge`,
`pattern`) and their JSON schema, whether the field is optional or not.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

_json_input: ContextVar[bool] = ContextVar("gongzhi_json_input", default=False)


@contextmanager
def json_input() -> Iterator[None]:
    """Within this block, numbers and yes/no values must arrive as JSON numbers and booleans."""
    token = _json_input.set(True)
    try:
        yield
    finally:
        _json_input.reset(token)


def _kind(annotation: Any) -> str | tuple[str, str] | None:
    """"int", "decimal", "bool", ("list", item kind) or None for a field's annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if origin in (list, set, frozenset, tuple):
        args = typing.get_args(annotation)
        item = _kind(args[0]) if args else None
        return ("list", item) if isinstance(item, str) else None
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return None
    if annotation is int:
        return "int"
    if annotation is Decimal or annotation is float:
        return "decimal"
    return None


def _refuse(kind: str, index: int | None) -> PydanticCustomError:
    context = {} if index is None else {"index": index}
    if kind == "bool":
        return PydanticCustomError("bool_type", "Input should be a valid boolean", context)
    if kind == "decimal":
        return PydanticCustomError("decimal_type", "Input should be a number or a decimal string", context)
    return PydanticCustomError("int_type", "Input should be a valid integer", context)


def _check_scalar(kind: str | None, value: Any, index: int | None) -> None:
    strict = _json_input.get()
    # JSON has one kind of number: 5.0 is the integer 5 (JSON Schema agrees); 5.5 is refused later.
    if kind == "int" and (isinstance(value, bool) or (strict and not isinstance(value, int | float))):
        raise _refuse(kind, index)
    amount_types = int | float | str | Decimal  # amounts may come as "12.50", the exact way to send them
    if kind == "decimal" and (isinstance(value, bool) or (strict and not isinstance(value, amount_types))):
        raise _refuse(kind, index)
    if kind == "bool" and strict and not isinstance(value, bool):
        raise _refuse(kind, index)


# What XML 1.0 refuses besides surrogates (which a JSON or form decoder never yields as text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _has_control(value: Any) -> bool:
    # A loop, not recursion: a body nested a few hundred levels deep must not overflow the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _CONTROL.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


@cache
def _field_kinds(model: type[BaseModel]) -> dict[str, str | tuple[str, str] | None]:
    return {name: _kind(field.annotation) for name, field in model.model_fields.items()}


class Input(BaseModel):
    """Base of every request body schema (and of anything else a client fills in)."""

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nonsense(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        if _has_control(value):
            raise PydanticCustomError("text_control", "Text must not contain control characters")
        kind = _field_kinds(cls).get(info.field_name or "")
        if isinstance(kind, tuple):
            if isinstance(value, list):
                for index, item in enumerate(value):
                    _check_scalar(kind[1], item, index)
        else:
            _check_scalar(kind, value, None)
        return value
