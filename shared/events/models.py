from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.append_only import make_append_only
from shared.columns import utc_field


class Event(SQLModel, table=True):
    """Timeline and audit trail; append-only (a PostgreSQL trigger refuses UPDATE/DELETE)."""

    __table_args__ = (
        Index("ix_event_case_at", "case_id", "at"),
        Index("ix_event_object", "object_type", "object_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    object_type: str = Field(max_length=32)
    object_id: int
    case_id: int | None = Field(default=None, foreign_key="case.id")
    action: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


make_append_only(Event.__table__)  # type: ignore[attr-defined]
