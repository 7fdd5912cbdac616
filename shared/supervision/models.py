from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class UrgeKind(StrEnum):
    URGE = "urge"  # 催办: a reminder sent by hand
    SUPERVISE = "supervise"  # 挂牌督办: the item is flagged for supervision until it closes


class AssignmentUrge(SQLModel, table=True):
    """One 催办 or 挂牌督办 by a coordinator: the fact the weekly figures count (by `at`,
    grouped by `department_id`, the department urged) and the item's 督办 badge reads.

    One of each kind per assignment and local date: the unique index refuses a second.
    """

    __tablename__ = "assignment_urge"
    __table_args__ = (
        Index("ix_assignment_urge_at", "at"),
        Index("ix_assignment_urge_department_at", "department_id", "at"),
        Index("ux_assignment_urge_day", "assignment_id", "kind", "local_date", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    case_id: int = Field(foreign_key="case.id")
    department_id: int = Field(foreign_key="department.id")
    kind: UrgeKind = enum_field(UrgeKind)
    at: datetime = utc_field()
    local_date: date
    by: int = Field(foreign_key="user.id")
    note: str = Field(default="", max_length=500)
