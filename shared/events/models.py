from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, Column, Index, event
from sqlmodel import Field, SQLModel

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


# The audit trail must not be rewritten, even by the application's own database user.
APPEND_ONLY_FUNCTION = DDL(
    """
CREATE OR REPLACE FUNCTION event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'event is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
)
APPEND_ONLY_TRIGGER = DDL(
    "CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event "
    "FOR EACH ROW EXECUTE FUNCTION event_append_only()"
)
_table = Event.__table__  # type: ignore[attr-defined]
event.listen(_table, "after_create", APPEND_ONLY_FUNCTION.execute_if(dialect="postgresql"))
event.listen(_table, "after_create", APPEND_ONLY_TRIGGER.execute_if(dialect="postgresql"))
