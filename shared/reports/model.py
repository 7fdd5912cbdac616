"""What the weekly summary says, as data: the contract between the SQL figures
(`shared/reports/figures.py`), the artefacts (HTML email, DOCX, XLSX), the JSON
API, the CLI and delivery.

Keys are the names of DESIGN §8's definitions, so other tools can read the JSON.
Every count here was computed in SQL; Python only divides and sorts the
per-department rows (a few dozen).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class Rate(BaseModel):
    """A share: `value` = numerator / denominator, None when there was nothing to count."""

    numerator: int
    denominator: int
    value: float | None

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Rate:
        return cls(numerator=numerator, denominator=denominator,
                   value=(numerator / denominator) if denominator else None)


class Latency(BaseModel):
    """Working days (Chinese working calendar) from one moment to another."""

    count: int
    median_working_days: float | None
    mean_working_days: float | None


class Outcomes(BaseModel):
    """Sums of the structured outcomes over feedback approved in the week."""

    enterprises_inspected: int = 0
    problems_found: int = 0
    rectification_orders: int = 0
    cases_filed: int = 0
    fines_yuan: Decimal = Decimal("0")
    complaints_mediated: int = 0
    losses_recovered_yuan: Decimal = Decimal("0")


class Returns(BaseModel):
    """退单: returns made in the week."""

    returns: int
    # ReturnReason value -> returns with that reason; every reason present, zeros included.
    by_reason: dict[str, int]
    # Dispatches and redispatches made in the week (the denominator of 退单率).
    dispatches: int
    return_rate: Rate
    # Assignments whose second (or later) return was made in the week: the coordinator decides (审定).
    returned_twice: int


class Callbacks(BaseModel):
    """回访 made in the week."""

    made: int
    reached: int
    # Satisfied + basically satisfied.
    satisfied: int
    resolved: int
    satisfaction_rate: Rate  # 满意率 = satisfied / reached
    resolution_rate: Rate  # 解决率 = resolved / reached


class Figures(BaseModel):
    """DESIGN §8 for one week and one scope (all departments, or one)."""

    new_cases: int
    closed_cases: int
    # Not cancelled, feedback due time in force (after approved extensions) in the week.
    assignments_due: int
    # Of those: first feedback submitted by that due time.
    on_time: int
    # Of `on_time`: submitted after the original due time, so on time only thanks to an extension.
    on_time_by_extension: int
    on_time_feedback_rate: Rate  # 按时反馈率 = on_time / assignments_due
    # Snapshot at week end: still dispatched or accepted, due before week end.
    overdue_open: int
    # Dispatch to first submission, for feedback first submitted in the week.
    feedback_latency: Latency
    # Dispatch to acceptance, for assignments accepted in the week.
    acceptance_latency: Latency
    # Acceptance due in the week (not cancelled), and of those accepted by then.
    acceptance_due: int
    accepted_on_time: int
    on_time_acceptance_rate: Rate  # 按时签收率
    returns: Returns
    callbacks: Callbacks
    inspections_held: int
    outcomes: Outcomes
    # 催办 and 挂牌督办 made by hand in the week (shared/supervision), by the department urged.
    urged: int = 0
    supervised: int = 0
    # New cases by category (only categories with a case), for "the categories that rose most";
    # optional: empty when the figures do not say.
    new_cases_by_category: dict[str, int] = Field(default_factory=dict)


class Level(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class DepartmentRef(BaseModel):
    id: int
    code: str
    name: str


class LeagueRow(BaseModel):
    """One department in the league table, sorted by on-time feedback rate."""

    rank: int
    department: DepartmentRef
    figures: Figures
    previous_on_time_feedback_rate: Rate
    # The longest any open assignment of the department was overdue at week end (0 if none).
    max_working_days_overdue: int
    level: Level
    # Why it is not green, as message keys of the catalogs (e.g. below the red floor, overdue too long).
    level_reasons: list[str] = Field(default_factory=list)


class OverdueItem(BaseModel):
    """超期未反馈: open at week end, feedback due before it."""

    assignment_id: int
    case_id: int
    case_reference: str
    case_title: str
    department: DepartmentRef
    # Who holds it: the named 承办人 if any, else None (the department as a whole).
    assignee_name: str | None
    state: str
    feedback_due_at: datetime
    working_days_overdue: int


class CaseRef(BaseModel):
    id: int
    reference: str
    title: str
    created_at: datetime
    lead_department: DepartmentRef | None = None


class RepeatComplaint(BaseModel):
    """One enterprise credit code in several cases created within 4 weeks ending with the report week."""

    credit_code: str
    enterprise_name: str
    cases: list[CaseRef]


class OutcomeHighlight(BaseModel):
    case: CaseRef
    department: DepartmentRef
    feedback_id: int
    fines_yuan: Decimal
    losses_recovered_yuan: Decimal
    cases_filed: int


class Highlights(BaseModel):
    # 典型案例: cases flagged typical and closed in the week.
    typical_cases_closed: list[CaseRef]
    # The approved feedback of the week with the largest fines plus losses recovered.
    largest_outcomes: list[OutcomeHighlight]


class Floors(BaseModel):
    red_below: float
    yellow_below: float
    red_overdue_working_days: int


class WeekPoint(BaseModel):
    week: str
    figures: Figures


class WeeklyReport(BaseModel):
    """The whole weekly summary for one week and one scope.

    Scope `all` is what leaders, coordinators and admins read.  A department's
    scope (its code) is a head's section: `figures`, `trend`, `overdue_list`,
    `repeat_complaints` and `highlights` cover only that department's work;
    `league_table` is the full table (aggregates only, no case data).
    """

    week: str  # "2026-W48"
    scope: str  # "all" or a department code
    department: DepartmentRef | None = None  # set when scope is a department
    starts_at: datetime  # Monday 00:00 local
    ends_at: datetime  # next Monday 00:00 local (exclusive)
    generated_at: datetime
    # False while the week is still running ("this week so far").
    complete: bool
    floors: Floors
    figures: Figures
    previous_week: Figures
    trend: list[WeekPoint]  # 8 weeks, oldest first, ending with this one
    league_table: list[LeagueRow]
    overdue_list: list[OverdueItem]
    # The most repeated first (at most 20, each with its first 10 cases); the total counts them all.
    repeat_complaints: list[RepeatComplaint]
    highlights: Highlights
    # Enterprises complained about repeatedly, listed or not (None: as many as listed).
    repeat_complaint_total: int | None = None


class DueRow(BaseModel):
    """An assignment due in the week (the XLSX's underlying rows)."""

    assignment_id: int
    case_reference: str
    case_title: str
    department: DepartmentRef
    state: str
    dispatched_at: datetime
    original_feedback_due_at: datetime
    feedback_due_at: datetime
    first_submitted_at: datetime | None
    on_time: bool
    on_time_by_extension: bool


class CallbackRow(BaseModel):
    callback_id: int
    case_reference: str
    department: DepartmentRef
    made_at: datetime
    reached: bool
    attempts: int
    satisfaction: str | None
    resolved: bool | None
    note: str


class ReportRows(BaseModel):
    """The rows behind the figures, for the Excel workbook (bounded by one week)."""

    assignments_due: list[DueRow]
    overdue: list[OverdueItem]
    callbacks: list[CallbackRow]
