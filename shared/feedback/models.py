from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, Numeric
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class ReviewDecision(StrEnum):
    APPROVED = "approved"  # 办结
    SENT_BACK = "sent_back"  # 退回重办


class SignoffDecision(StrEnum):
    """审签: the department head's decision, before the coordinator sees the feedback."""

    SIGNED_OFF = "signed_off"  # 已签发
    SENT_BACK = "sent_back"  # 退回修改


class Feedback(SQLModel, table=True):
    """反馈: narrative plus structured outcomes; one row per submission."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    submitted_at: datetime = utc_field(index=True)
    narrative: str = Field(max_length=20000)
    enterprises_inspected: int = 0
    problems_found: int = 0
    rectification_orders: int = 0
    cases_filed: int = 0
    fines_yuan: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(14, 2), nullable=False))
    complaints_mediated: int = 0
    losses_recovered_yuan: Decimal = Field(
        default=Decimal("0"), sa_column=Column(Numeric(14, 2), nullable=False)
    )
    # 审签, where the department requires it (a head's own feedback is signed by submitting it).
    signoff_decision: SignoffDecision | None = enum_field(SignoffDecision, None, nullable=True)
    signoff_by: int | None = Field(default=None, foreign_key="user.id")
    signoff_at: datetime | None = utc_field(nullable=True, default=None)
    signoff_note: str | None = Field(default=None, max_length=2000)
    review_decision: ReviewDecision | None = enum_field(ReviewDecision, None, nullable=True)
    reviewed_by: int | None = Field(default=None, foreign_key="user.id")
    reviewed_at: datetime | None = utc_field(nullable=True, default=None, index=True)
    review_comment: str | None = Field(default=None, max_length=4000)
