from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from shared.assignments.models import AssignmentRole, AssignmentState, ExtensionState, ReturnReason
from shared.i18n import N_
from shared.ids import DbId
from shared.inputs import Input


class DispatchIn(Input):
    department_id: DbId
    instructions: str = Field(default="", max_length=4000)
    working_days: int | None = Field(
        default=None, ge=1, le=120, description="办理时限（工作日）；缺省按案件来源的法定时限模板"
    )
    assignee_id: DbId | None = None
    parallel: bool = Field(
        default=False, strict=True,
        description="并行任务：该部门在本案已有未办结任务时仍派发新任务；缺省 false，已有则 409",
    )
    role: AssignmentRole = Field(default=AssignmentRole.LEAD, description="主办 lead | 协办 assist；缺省主办")


MAX_ASSISTS = 20


class DispatchPlanIn(Input):
    """派发方案: one lead department (主办) and any assisting ones (协办), each its own assignment."""

    lead_department_id: DbId = Field(description="主办部门")
    assist_department_ids: list[DbId] = Field(default_factory=list, max_length=MAX_ASSISTS,
                                              description="协办部门（可为空；不得重复，不得含主办部门）")
    instructions: str = Field(max_length=4000, description="办理要求（必填）")
    working_days: int | None = Field(
        default=None, ge=1, le=120, description="办理时限（工作日）；缺省按案件来源的法定时限模板"
    )
    parallel: bool = Field(
        default=False, strict=True,
        description="并行任务：某部门在本案已有未办结任务时仍派发；缺省 false，已有则整单 409，不派发任何部门",
    )

    @field_validator("instructions")
    @classmethod
    def _requirements_given(cls, text: str) -> str:
        if not text.strip():
            raise ValueError(N_("instructions_required"))
        return text


class DuePreviewIn(Input):
    working_days: int | None = Field(default=None, ge=1, le=120)


class DuePreview(BaseModel):
    """The deadlines a dispatch made now would get: shown before the coordinator submits."""

    working_days: int
    acceptance_due_at: datetime
    feedback_due_at: datetime
    # A counted day falls in a year without an official holiday schedule (shared/calendar).
    provisional: bool


class DispatchPlanOut(BaseModel):
    case_id: int
    items: list[AssignmentPublic]


class AssigneeIn(Input):
    assignee_id: DbId = Field(description="承办人：本部门在职联络员或负责人")


class ReturnIn(Input):
    reason: ReturnReason
    note: str | None = Field(default=None, max_length=2000, validate_default=True)

    @field_validator("note")
    @classmethod
    def _other_needs_text(cls, note: str | None, info: ValidationInfo) -> str | None:
        # A field validator, not a model one: the error then names `note`, not the whole body.
        if info.data.get("reason") == ReturnReason.OTHER and not (note and note.strip()):
            raise ValueError(N_("note_required_for_other"))
        return note


class RedispatchIn(Input):
    department_id: DbId | None = Field(default=None, description="改派部门；缺省为原部门")
    working_days: int | None = Field(default=None, ge=1, le=120)
    instructions: str | None = Field(default=None, max_length=4000)
    decision_note: str | None = Field(default=None, max_length=2000, description="审定意见（退回两次后必填）")
    parallel: bool = Field(
        default=False, strict=True,
        description="改派给在本案已有未办结任务的部门时，须明确为并行任务；缺省 false，已有则 409",
    )


class ExtensionIn(Input):
    extra_working_days: int = Field(ge=1, le=60)
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(Input):
    comment: str | None = Field(default=None, max_length=2000)


class ReviewIn(Input):
    comment: str | None = Field(default=None, max_length=4000)


class SendBackIn(Input):
    reason: str = Field(min_length=1, max_length=4000)


class SignOffIn(Input):
    """审签通过: an optional note for the coordinator."""

    note: str | None = Field(default=None, max_length=2000)


class SendBackSignoffIn(Input):
    """审签退回: what the liaison must change, required."""

    note: str = Field(min_length=1, max_length=2000)


class CancelIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


Yuan = Decimal


class FeedbackIn(Input):
    narrative: str = Field(min_length=1, max_length=20000)
    enterprises_inspected: int = Field(default=0, ge=0, le=1_000_000)
    problems_found: int = Field(default=0, ge=0, le=1_000_000)
    rectification_orders: int = Field(default=0, ge=0, le=1_000_000)
    cases_filed: int = Field(default=0, ge=0, le=1_000_000)
    fines_yuan: Decimal = Field(default=Decimal("0"), ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    complaints_mediated: int = Field(default=0, ge=0, le=1_000_000)
    losses_recovered_yuan: Decimal = Field(
        default=Decimal("0"), ge=0, le=Decimal("999999999999.99"), decimal_places=2
    )


class FeedbackPublic(FeedbackIn):
    id: int
    assignment_id: int
    author_id: int
    submitted_at: datetime
    signoff_decision: str | None
    signoff_by: int | None
    signoff_at: datetime | None
    signoff_note: str | None
    review_decision: str | None
    reviewed_by: int | None
    reviewed_at: datetime | None
    review_comment: str | None


class ExtensionPublic(BaseModel):
    id: int
    assignment_id: int
    requested_by: int
    requested_at: datetime
    extra_working_days: int
    reason: str
    state: ExtensionState
    decided_by: int | None
    decided_at: datetime | None
    decision_comment: str | None
    new_due_at: datetime | None


class AssignmentPublic(BaseModel):
    id: int
    case_id: int
    case_reference: str
    case_title: str
    inspection_id: int | None
    department_id: int
    assignee_id: int | None
    role: AssignmentRole
    instructions: str
    state: AssignmentState
    dispatched_by: int
    dispatched_at: datetime
    acceptance_due_at: datetime
    feedback_due_at: datetime
    original_feedback_due_at: datetime
    working_days: int
    due_provisional: bool
    extended: bool
    accepted_at: datetime | None
    first_submitted_at: datetime | None
    done_at: datetime | None
    return_count: int
    return_reason: str | None
    return_note: str | None
    needs_decision: bool
    cancel_reason: str | None
    acceptance_overdue: bool
    feedback_overdue: bool
    allowed_actions: list[str]
    updated_at: datetime
    version: int


class AssignmentPage(BaseModel):
    items: list[AssignmentPublic]
    next_cursor: str | None


class QueueCounts(BaseModel):
    to_accept: int
    in_progress: int
    due_soon: int
    overdue: int
    awaiting_signoff: int  # with the department's head (审签), where the department requires it
    awaiting_review: int


class QueueOut(BaseModel):
    department_id: int
    counts: QueueCounts
    items: list[AssignmentPublic]
