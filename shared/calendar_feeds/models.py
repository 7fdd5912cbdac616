from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class FeedKind(StrEnum):
    USER = "user"  # 我的日程: the owner's inspections and deadlines
    DEPARTMENT = "department"  # 本部门日程: the department's, created by its head


class CalendarFeed(SQLModel, table=True):
    """A secret subscription address (ICS) for Outlook or a phone calendar.

    Only the token's sha256 is stored, as for sessions: the address is shown
    once, when it is made.  Revoking keeps the row (who made which feed, and
    when it ended) but the address answers 404 from then on.
    """

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    kind: FeedKind = enum_field(FeedKind)
    user_id: int = Field(foreign_key="user.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    created_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(nullable=True, default=None)
