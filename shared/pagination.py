"""Keyset pagination: the cursor is the last row's sort value and id, opaque to clients."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from shared.errors import Invalid


def encode_cursor(value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        if isinstance(value, dict) and "dt" in value:
            value = datetime.fromisoformat(value["dt"])
        if not isinstance(row_id, int):
            raise ValueError
        return value, row_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("cursor", "field_invalid") from None


def after_cursor(column: Any, id_column: Any, cursor: str, descending: bool) -> ColumnElement[bool]:
    value, row_id = decode_cursor(cursor)
    if descending:
        return or_(column < value, and_(column == value, id_column < row_id))
    return or_(column > value, and_(column == value, id_column > row_id))
