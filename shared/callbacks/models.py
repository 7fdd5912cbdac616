from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class Callback(SQLModel, table=True):
    """回访: one call (or series of tries) to the complainant about approved work.

    The weekly figures (DESIGN §8: reached, 满意率, 解决率 for callbacks made
    in the week, overall and per department) count these rows by `made_at`,
    grouped by `department_id` — the department whose approved assignment the
    callback judges, copied here so the figures need no join.
    """

    __table_args__ = (
        Index("ix_callback_made_at", "made_at"),
        Index("ix_callback_department_made_at", "department_id", "made_at"),
        Index("ix_callback_case", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    made_by: int = Field(foreign_key="user.id")
    made_at: datetime = utc_field()
    reached: bool
    attempts: int
    # Only when reached: an unreached complainant gave no answer.
    satisfaction: Satisfaction | None = enum_field(Satisfaction, None, nullable=True)
    resolved: bool | None = None
    note: str = Field(default="", max_length=2000)
    # 重办 sent the work back after this callback (at most once per callback).
    reworked_at: datetime | None = utc_field(nullable=True, default=None)
    reworked_by: int | None = Field(default=None, foreign_key="user.id")
    rework_assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    updated_at: datetime = utc_field()
    version: int = 1
