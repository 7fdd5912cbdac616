from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.append_only import make_append_only
from shared.columns import utc_field


class AuditEntry(SQLModel, table=True):
    """A read of personal data (who saw which case's complainant in full, when, from where).

    Kept apart from ``event``, the timeline every department of a case reads:
    a read changes nothing, and who read what is for admins only.  Append-only,
    like ``event`` (a PostgreSQL trigger refuses UPDATE and DELETE).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_id", "actor_id", "id"),
        Index("ix_audit_log_case_id", "case_id", "id"),
        Index("ix_audit_log_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    actor_id: int = Field(foreign_key="user.id")
    action: str = Field(max_length=64)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


make_append_only(AuditEntry.__table__)  # type: ignore[attr-defined]
