from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class AssignmentState(StrEnum):
    DISPATCHED = "dispatched"  # 待签收
    ACCEPTED = "accepted"  # 办理中
    # 待审签: the liaison's feedback waits for the department head (Department.signoff_required).
    AWAITING_SIGNOFF = "awaiting_signoff"
    SUBMITTED = "submitted"  # 待审核
    DONE = "done"  # 已办结
    RETURNED = "returned"  # 已退回
    CANCELLED = "cancelled"  # 已撤销


class AssignmentRole(StrEnum):
    """The department's part in the case's work, named when it is dispatched."""

    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办


class ReturnReason(StrEnum):
    NOT_OUR_JURISDICTION = "not_our_jurisdiction"
    WRONG_LOCALITY = "wrong_locality"
    UNCLEAR_OWNERSHIP = "unclear_ownership"
    DUPLICATE = "duplicate"
    OTHER = "other"


# shared/assignments/status.py decides which states are active (ACTIVE_STATES); it
# imports this module, so the partial indexes spell the same set out here and
# tests/test_assignment_status.py checks that the two agree.
_ACTIVE_SQL = "state IN ('dispatched', 'accepted')"


class Assignment(SQLModel, table=True):
    """任务/工单 — never "Task", so it cannot be confused with a Celery task."""

    __table_args__ = (
        Index("ix_assignment_queue", "department_id", "state", "feedback_due_at"),
        Index("ix_assignment_state_due", "state", "feedback_due_at"),
        Index("ix_assignment_state_acceptance", "state", "acceptance_due_at"),
        Index("ix_assignment_case", "case_id"),
        # Open work only (a few percent of the table): the department queue and the reminder pass.
        Index("ix_assignment_active_queue", "department_id", "feedback_due_at", "id",
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        Index("ix_assignment_active_due", "feedback_due_at",
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
        # A person's own open work (承办人), which his queue lists first.
        Index("ix_assignment_active_assignee", "assignee_id", "feedback_due_at", "id",
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    # 承办人: who in the department carries it; set on accepting, handed over by a head or liaison.
    assignee_id: int | None = Field(default=None, foreign_key="user.id")
    role: AssignmentRole = enum_field(AssignmentRole, AssignmentRole.LEAD)
    instructions: str = Field(default="", max_length=4000)
    state: AssignmentState = enum_field(AssignmentState, AssignmentState.DISPATCHED)
    dispatched_by: int = Field(foreign_key="user.id")
    dispatched_at: datetime = utc_field()
    acceptance_due_at: datetime = utc_field()
    feedback_due_at: datetime = utc_field()
    original_feedback_due_at: datetime = utc_field()
    working_days: int
    # Due times that fall in a year without an official holiday schedule.
    due_provisional: bool = False
    accepted_at: datetime | None = utc_field(nullable=True, default=None, index=True)
    first_submitted_at: datetime | None = utc_field(nullable=True, default=None, index=True)
    done_at: datetime | None = utc_field(nullable=True, default=None, index=True)
    return_count: int = 0
    return_reason: ReturnReason | None = enum_field(ReturnReason, None, nullable=True)
    return_note: str | None = Field(default=None, max_length=2000)
    # Returned twice: the coordinator decides (审定) instead of bouncing it again.
    needs_decision: bool = False
    cancel_reason: str | None = Field(default=None, max_length=2000)
    updated_at: datetime = utc_field()
    version: int = 1


class ExtensionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class ExtensionRequest(SQLModel, table=True):
    """延期申请"""

    __tablename__ = "extension_request"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    requested_by: int = Field(foreign_key="user.id")
    requested_at: datetime = utc_field()
    extra_working_days: int
    reason: str = Field(max_length=2000)
    state: ExtensionState = enum_field(ExtensionState, ExtensionState.PENDING, index=True)
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = utc_field(nullable=True, default=None)
    decision_comment: str | None = Field(default=None, max_length=2000)
    new_due_at: datetime | None = utc_field(nullable=True, default=None)


class AssignmentDispatch(SQLModel, table=True):
    """One dispatch or redispatch (派发/重新派发), kept because a redispatch overwrites
    `Assignment.dispatched_at`: the weekly figures count dispatches in a week
    (the denominator of 退单率) from here, grouped by department, without reading events."""

    __tablename__ = "assignment_dispatch"
    __table_args__ = (
        Index("ix_assignment_dispatch_at", "dispatched_at"),
        Index("ix_assignment_dispatch_department_at", "department_id", "dispatched_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    case_id: int = Field(foreign_key="case.id")
    department_id: int = Field(foreign_key="department.id")
    dispatched_at: datetime = utc_field()
    redispatch: bool = False


class AssignmentReturn(SQLModel, table=True):
    """One return (退单) with its time and reason, kept because a redispatch resets the
    assignment's return fields: the weekly figures count returns by reason and the
    items returned twice from here."""

    __tablename__ = "assignment_return"
    __table_args__ = (
        Index("ix_assignment_return_at", "returned_at"),
        Index("ix_assignment_return_department_at", "department_id", "returned_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    case_id: int = Field(foreign_key="case.id")
    # The department that returned it.
    department_id: int = Field(foreign_key="department.id")
    returned_at: datetime = utc_field()
    reason: ReturnReason = enum_field(ReturnReason)
    # The assignment's return_count after this return: 2 or more is "returned twice" (审定).
    return_number: int
