"""The weekly figures (周报, DESIGN §8), computed in SQL for any ISO week.

Every count is a GROUP BY over indexed columns, all departments and all eight
weeks of the trend in one statement per kind of figure (bucketed by week with
a CASE over the week boundaries); Python only adds the per-department rows up
for the overall scope, turns latency histograms into medians and sorts the
league table.  Open, overdue, on time, on time by extension and accepted on
time are `shared.assignments.status`'s SQL expressions: no due time is compared
here.

What each figure counts, exactly (the week = Monday 00:00 to the next Monday
00:00, Asia/Shanghai; for the week still running, up to `now`):

- new cases: `case.created_at` in the week, also by category; closed cases: `case.closed_at` in
  the week — a case reopened since has no closing time and is not counted, a
  case closed again is counted in the week of its last closing.  Per
  department: the lead department.
- assignments due: not cancelled, feedback due time in force (after approved
  extensions) in the week (for the running week: up to now, so work due later
  this week is not yet judged).  on time / on time by extension: `status`'s
  rules on the first submission.  Per department: the department holding it.
  A returned assignment the coordinator has not yet redispatched or cancelled
  still counts where it was returned from.
- overdue open: `status.overdue_sql` at the snapshot — the week's end, or now
  for the running week.  It is evaluated on the assignments' current state, so
  it is exact when the report is built at the end of the week (Monday's
  delivery, which the archive keeps); rebuilt later, an old week's snapshot
  counts the work that is still open now and was due before that week ended.
- working days overdue: working days after the due date, up to and including
  the snapshot's date (Sunday for a finished week): due Thursday 17:30, it is
  1 working day overdue by Friday evening; due Friday, 0 over the weekend.
- feedback latency: working days from the (latest) dispatch's date to the
  first submission's date, for first submissions in the week; 0 = same day.
  acceptance latency: the same from dispatch to acceptance, for acceptances in
  the week.  Median and mean over whole working days (`workdays_sql`).  SQLite
  has no percentile function, so SQL returns the histogram (latency, count)
  and Python takes the median from it.
- acceptance due: not cancelled, acceptance due time in the week; accepted on
  time: `status.accepted_on_time_sql`.
- returns: rows of `assignment_return` in the week (by the department that
  returned it), by reason; dispatches: rows of `assignment_dispatch`
  (dispatches and redispatches) in the week; 退单率 = returns / dispatches of
  the same week; returned twice: assignments whose second or later return by
  one department was in the week (`return_number` restarts when the
  coordinator redispatches to another department), counted once per assignment
  and department — so the overall figure is the sum of the departments'.
- callbacks: `callback.made_at` in the week, by the department judged;
  satisfied = satisfied + basically satisfied; rates over the reached ones.
- inspections held: inspections done (`completed_at`) in the week; per
  department, the ones it took part in (overall counts each inspection once).
- outcomes: sums over feedback approved (`reviewed_at`, decision approved) in
  the week, by the department that gave it.
- repeat complaints: one enterprise credit code in two or more cases created
  in the four weeks ending with the report week (a department's section: two
  or more of the cases it leads or that are shared with it); the 20 most
  repeated are listed, with their first 10 cases, and all are counted.
- highlights: typical cases (典型案例) closed in the week; the approved
  feedback of the week with the largest fines + losses recovered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from shared import references
from shared.actors import Actor
from shared.assignments import status
from shared.assignments.models import (
    Assignment,
    ReturnReason,
)
from shared.callbacks.models import Callback
from shared.cases.models import Case, CaseShare
from shared.departments.models import Department
from shared.errors import Invalid, NotFound
from shared.feedback.models import Feedback, ReviewDecision
from shared.i18n import N_
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.reports import facts, levels
from shared.reports.facts import CB, DSP, MONEY, NOT_CANCELLED, RET, A, C, F, flag
from shared.reports.model import (
    CallbackRow,
    Callbacks,
    CaseRef,
    DepartmentRef,
    DueRow,
    Figures,
    Floors,
    Highlights,
    Latency,
    LeagueRow,
    OutcomeHighlight,
    OverdueItem,
    Rate,
    RepeatComplaint,
    ReportRows,
    Returns,
    WeeklyReport,
    WeekPoint,
)
from shared.reports.weeks import IsoWeek
from shared.reports.workdays_sql import WorkingDays
from shared.settings import Settings
from shared.supervision.models import AssignmentUrge, UrgeKind
from shared.users.models import Role

TREND_WEEKS = 8
REPEAT_WEEKS = 4
# The report lists the longest-overdue items; the figures count them all and the
# Excel rows (weekly_rows) list them all.
OVERDUE_LIST_LIMIT = 100
TYPICAL_CASES_LIMIT = 20
LARGEST_OUTCOMES_LIMIT = 5

INS = Inspection.__table__.c  # type: ignore[attr-defined]
IP = InspectionParticipant.__table__.c  # type: ignore[attr-defined]
URGE = AssignmentUrge.__table__.c  # type: ignore[attr-defined]
SHARE = CaseShare.__table__.c  # type: ignore[attr-defined]
READERS = frozenset({Role.LEADER, Role.COORDINATOR, Role.ADMIN})


# ------------------------------------------------------------------ tallies


@dataclass
class _Tally:
    """The counts behind one Figures (one week, one department or all)."""

    new_cases: int = 0
    new_cases_by_category: Counter[str] = field(default_factory=Counter)
    closed_cases: int = 0
    due: int = 0
    on_time: int = 0
    on_time_by_extension: int = 0
    overdue_open: int = 0
    max_working_days_overdue: int = 0
    feedback_latency: Counter[int] = field(default_factory=Counter)
    acceptance_latency: Counter[int] = field(default_factory=Counter)
    acceptance_due: int = 0
    accepted_on_time: int = 0
    returns: Counter[str] = field(default_factory=Counter)
    dispatches: int = 0
    returned_twice: int = 0
    callbacks_made: int = 0
    callbacks_reached: int = 0
    callbacks_satisfied: int = 0
    callbacks_resolved: int = 0
    inspections: int = 0
    urged: int = 0
    supervised: int = 0
    outcomes: dict[str, Any] = field(default_factory=dict)

    def add(self, other: _Tally) -> None:
        for name in ("new_cases", "closed_cases", "due", "on_time", "on_time_by_extension", "overdue_open",
                     "acceptance_due", "accepted_on_time", "dispatches", "returned_twice", "callbacks_made",
                     "callbacks_reached", "callbacks_satisfied", "callbacks_resolved", "inspections", "urged",
                     "supervised"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_working_days_overdue = max(self.max_working_days_overdue, other.max_working_days_overdue)
        self.feedback_latency.update(other.feedback_latency)
        self.acceptance_latency.update(other.acceptance_latency)
        self.returns.update(other.returns)
        self.new_cases_by_category.update(other.new_cases_by_category)
        for key, value in other.outcomes.items():
            self.outcomes[key] = self.outcomes.get(key, 0) + value

    def figures(self) -> Figures:
        returns = sum(self.returns.values())
        return Figures(
            new_cases=self.new_cases,
            closed_cases=self.closed_cases,
            assignments_due=self.due,
            on_time=self.on_time,
            on_time_by_extension=self.on_time_by_extension,
            on_time_feedback_rate=Rate.of(self.on_time, self.due),
            overdue_open=self.overdue_open,
            feedback_latency=_latency(self.feedback_latency),
            acceptance_latency=_latency(self.acceptance_latency),
            acceptance_due=self.acceptance_due,
            accepted_on_time=self.accepted_on_time,
            on_time_acceptance_rate=Rate.of(self.accepted_on_time, self.acceptance_due),
            returns=Returns(
                returns=returns,
                by_reason={reason.value: self.returns.get(reason.value, 0) for reason in ReturnReason},
                dispatches=self.dispatches,
                return_rate=Rate.of(returns, self.dispatches),
                returned_twice=self.returned_twice,
            ),
            callbacks=Callbacks(
                made=self.callbacks_made,
                reached=self.callbacks_reached,
                satisfied=self.callbacks_satisfied,
                resolved=self.callbacks_resolved,
                satisfaction_rate=Rate.of(self.callbacks_satisfied, self.callbacks_reached),
                resolution_rate=Rate.of(self.callbacks_resolved, self.callbacks_reached),
            ),
            inspections_held=self.inspections,
            outcomes=facts.to_outcomes(self.outcomes),
            new_cases_by_category=dict(sorted(self.new_cases_by_category.items())),
            urged=self.urged,
            supervised=self.supervised,
        )


def _latency(histogram: Counter[int]) -> Latency:
    """Median and mean from (working days -> count), the way SQL hands them over."""
    count = sum(histogram.values())
    if not count:
        return Latency(count=0, median_working_days=None, mean_working_days=None)
    mean = sum(days * n for days, n in histogram.items()) / count

    def nth(index: int) -> int:  # 0-based position in the sorted latencies
        seen = 0
        for days in sorted(histogram):
            seen += histogram[days]
            if index < seen:
                return days
        raise AssertionError("index past the histogram")

    middle = count // 2
    median = float(nth(middle)) if count % 2 else (nth(middle - 1) + nth(middle)) / 2
    return Latency(count=count, median_working_days=median, mean_working_days=mean)


# ------------------------------------------------------------------ the window


@dataclass
class _Window:
    """The trend's weeks, their boundaries, and where counting stops (now, for the running week)."""

    weeks: list[IsoWeek]
    bounds: list[datetime]  # len(weeks) + 1 instants, UTC
    now: datetime
    settings: Settings

    @classmethod
    def ending_with(cls, week: IsoWeek, count: int, now: datetime, settings: Settings) -> _Window:
        weeks = week.last(count)
        tz = settings.tz
        bounds = [w.starts_at(tz) for w in weeks] + [week.ends_at(tz)]
        return cls(weeks=weeks, bounds=bounds, now=now, settings=settings)

    @property
    def start(self) -> datetime:
        return self.bounds[0]

    @property
    def upto(self) -> datetime:
        return min(self.bounds[-1], self.now)

    def snapshot(self, index: int) -> datetime:
        """When week `index`'s overdue snapshot is taken: its end, or now if that comes first."""
        return min(self.bounds[index + 1], self.now)

    def bucket(self, column: Any) -> ColumnElement[int]:
        """Which week (0 = oldest) an instant falls in; only meaningful `within` the window."""
        last = len(self.weeks) - 1
        if last == 0:
            return literal(0)
        return case(*[(column < bound, index) for index, bound in enumerate(self.bounds[1:-1])], else_=last)

    def within(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.upto)


def _working_days(session: Session, settings: Settings, window: _Window) -> WorkingDays:
    return facts.working_days(session, settings, window.start, window.bounds[-1])


# ------------------------------------------------------------------ grouped statements

Key = tuple[int, int]  # (week index, department id)


def _grouped(session: Session, inner: Any, *sums: str, extra_group: Sequence[str] = ()) -> list[Any]:
    """SELECT b, d[, extra], count(*), sum(each) FROM (inner) GROUP BY b, d[, extra].

    Grouping over a subquery's columns: PostgreSQL would not match a CASE with
    bound parameters in the select list to the "same" CASE in GROUP BY.
    """
    sub = inner.subquery()
    groups = [sub.c.b, sub.c.d, *[sub.c[name] for name in extra_group]]
    columns = [*groups, func.count().label("n"), *[func.coalesce(func.sum(sub.c[name]), 0).label(name)
                                                   for name in sums]]
    return list(session.execute(select(*columns).group_by(*groups)))


def _collect(session: Session, window: _Window, wd: WorkingDays) -> tuple[dict[Key, _Tally], list[int]]:
    """Every week's tally per department, and every week's count of inspections held (overall)."""
    tallies: dict[Key, _Tally] = defaultdict(_Tally)

    def rows(inner: Any, *sums: str, extra_group: Sequence[str] = ()) -> Iterable[Any]:
        return _grouped(session, inner, *sums, extra_group=extra_group)

    # Cases, by lead department: created (by category; new_cases is their sum) and closed.
    inner = select(window.bucket(C.created_at).label("b"), C.lead_department_id.label("d"),
                   C.category.label("category")).where(window.within(C.created_at))
    for r in rows(inner, extra_group=("category",)):
        t = tallies[(r.b, r.d)]
        t.new_cases += r.n
        t.new_cases_by_category[str(r.category)] += r.n
    inner = select(window.bucket(C.closed_at).label("b"), C.lead_department_id.label("d")).where(
        window.within(C.closed_at))
    for r in rows(inner):
        tallies[(r.b, r.d)].closed_cases = r.n

    # Feedback due in the week.
    inner = select(
        window.bucket(A.feedback_due_at).label("b"), A.department_id.label("d"),
        flag(status.on_time_sql()).label("on_time"), flag(status.on_time_by_extension_sql()).label("by_ext"),
    ).where(window.within(A.feedback_due_at), status.states_in(A.state, NOT_CANCELLED))
    for r in rows(inner, "on_time", "by_ext"):
        t = tallies[(r.b, r.d)]
        t.due, t.on_time, t.on_time_by_extension = r.n, int(r.on_time), int(r.by_ext)

    # Acceptance due in the week.
    inner = select(
        window.bucket(A.acceptance_due_at).label("b"), A.department_id.label("d"),
        flag(status.accepted_on_time_sql()).label("ok"),
    ).where(window.within(A.acceptance_due_at), status.states_in(A.state, NOT_CANCELLED))
    for r in rows(inner, "ok"):
        t = tallies[(r.b, r.d)]
        t.acceptance_due, t.accepted_on_time = r.n, int(r.ok)

    # Latencies: histograms of whole working days.
    for moment, attr in ((A.first_submitted_at, "feedback_latency"), (A.accepted_at, "acceptance_latency")):
        start, end = wd.alias("wd_from"), wd.alias("wd_to")
        inner = (
            select(window.bucket(moment).label("b"), A.department_id.label("d"),
                   (end.c.ordinal - start.c.ordinal).label("days"))
            .select_from(Assignment.__table__)  # type: ignore[attr-defined]
            .join(start, start.c.day_number == wd.local_day(A.dispatched_at))
            .join(end, end.c.day_number == wd.local_day(moment))
            .where(window.within(moment))
        )
        for r in rows(inner, extra_group=("days",)):
            getattr(tallies[(r.b, r.d)], attr)[int(r.days)] += r.n

    # Dispatches and returns.
    inner = select(window.bucket(DSP.dispatched_at).label("b"), DSP.department_id.label("d")).where(
        window.within(DSP.dispatched_at))
    for r in rows(inner):
        tallies[(r.b, r.d)].dispatches = r.n
    inner = select(window.bucket(RET.returned_at).label("b"), RET.department_id.label("d"),
                   RET.reason.label("reason")).where(window.within(RET.returned_at))
    for r in rows(inner, extra_group=("reason",)):
        tallies[(r.b, r.d)].returns[str(r.reason)] += r.n
    for (b, d), n in _distinct_twice(session, window).items():
        tallies[(b, d)].returned_twice = n

    # Callbacks.
    counted = facts.callback_flags()
    inner = select(
        window.bucket(CB.made_at).label("b"), CB.department_id.label("d"),
        *[counted[name].label(name) for name in ("reached", "satisfied", "resolved")],
    ).where(window.within(CB.made_at))
    for r in rows(inner, "reached", "satisfied", "resolved"):
        t = tallies[(r.b, r.d)]
        t.callbacks_made, t.callbacks_reached = r.n, int(r.reached)
        t.callbacks_satisfied, t.callbacks_resolved = int(r.satisfied), int(r.resolved)

    # 催办 and 挂牌督办 by hand, per department urged.
    inner = select(window.bucket(URGE.at).label("b"), URGE.department_id.label("d"),
                   URGE.kind.label("kind")).where(window.within(URGE.at))
    for r in rows(inner, extra_group=("kind",)):
        setattr(tallies[(r.b, r.d)], "supervised" if str(r.kind) == UrgeKind.SUPERVISE else "urged", r.n)

    # Inspections held, per participating department.
    done = and_(INS.status == InspectionStatus.DONE, window.within(INS.completed_at))
    inner = (select(window.bucket(INS.completed_at).label("b"), IP.department_id.label("d"))
             .select_from(Inspection.__table__.join(  # type: ignore[attr-defined]
                 InspectionParticipant.__table__, IP.inspection_id == INS.id))  # type: ignore[attr-defined]
             .where(done))
    for r in rows(inner):
        tallies[(r.b, r.d)].inspections = r.n
    overall_inspections = [0] * len(window.weeks)
    sub = select(window.bucket(INS.completed_at).label("b")).where(done).subquery()
    for b, n in session.execute(select(sub.c.b, func.count()).group_by(sub.c.b)):
        overall_inspections[b] = n

    # Outcomes of the feedback approved in the week.
    outcome_names = facts.OUTCOME_NAMES
    inner = (
        select(window.bucket(F.reviewed_at).label("b"), A.department_id.label("d"), *facts.outcome_columns())
        .select_from(Feedback.__table__.join(Assignment.__table__, A.id == F.assignment_id))  # type: ignore[attr-defined]
        .where(F.review_decision == ReviewDecision.APPROVED, window.within(F.reviewed_at))
    )
    for r in rows(inner, *outcome_names):
        tallies[(r.b, r.d)].outcomes = {name: getattr(r, name) for name in outcome_names}

    # Overdue at each week's snapshot: active (status), due before it.
    for index in range(len(window.weeks)):
        snapshot = window.snapshot(index)
        for department_id, (n, longest) in facts.overdue_by_department(session, wd, snapshot,
                                                                      window.settings).items():
            t = tallies[(index, department_id)]
            t.overdue_open, t.max_working_days_overdue = n, longest

    return tallies, overall_inspections


def _distinct_twice(session: Session, window: _Window) -> dict[Key, int]:
    """Assignments whose second or later return was in the week, once per (assignment, department)."""
    pairs = facts.returned_twice_pairs(window.within(RET.returned_at)).add_columns(
        window.bucket(RET.returned_at).label("b")).subquery()
    stmt = select(pairs.c.b, pairs.c.d, func.count()).group_by(pairs.c.b, pairs.c.d)
    return {(b, d): n for b, d, n in session.execute(stmt)}


# ------------------------------------------------------------------ lists


def _departments(session: Session) -> dict[int, Department]:
    """The departments (a few dozen rows: reference data, not a fact table)."""
    return {d.id: d for d in session.scalars(select(Department))}  # type: ignore[misc]


def _ref(department: Department) -> DepartmentRef:
    return DepartmentRef(id=department.id, code=department.code, name=department.name)  # type: ignore[arg-type]


def _visible_to(department_id: int) -> ColumnElement[bool]:
    """Cases a department's section may name: it leads them or they are shared with it."""
    return or_(C.lead_department_id == department_id,
               exists().where(SHARE.case_id == C.id, SHARE.department_id == department_id))


def _overdue_items(session: Session, window: _Window, wd: WorkingDays, departments: dict[int, Department],
                   department_id: int | None, limit: int | None) -> list[OverdueItem]:
    snapshot = window.snapshot(len(window.weeks) - 1)
    where = [] if department_id is None else [A.department_id == department_id]
    refs = {i: _ref(d) for i, d in departments.items()}
    return facts.overdue_items(session, wd, snapshot, window.settings, refs, where, limit)


def _case_ref(row: Any, departments: dict[int, Department]) -> CaseRef:
    lead = departments.get(row.lead_department_id)
    return CaseRef(id=row.id, reference=row.reference, title=row.title, created_at=row.created_at,
                   lead_department=_ref(lead) if lead is not None else None)


_CASE_REF_COLUMNS = (C.id, C.reference, C.title, C.created_at, C.lead_department_id)


def _repeat_complaints(session: Session, week: IsoWeek, settings: Settings, now: datetime,
                       departments: dict[int, Department],
                       department_id: int | None) -> tuple[list[RepeatComplaint], int]:
    window = _Window.ending_with(week, REPEAT_WEEKS, now, settings)
    scope = [window.within(C.created_at)]
    if department_id is not None:
        scope.append(_visible_to(department_id))
    return facts.repeat_complaints(session, scope, {i: _ref(d) for i, d in departments.items()})


def _highlights(session: Session, window: _Window, departments: dict[int, Department],
                department_id: int | None) -> Highlights:
    week_start, upto = window.bounds[-2], window.upto

    def in_week(column: Any) -> ColumnElement[bool]:
        return and_(column >= week_start, column < upto)

    typical = select(*_CASE_REF_COLUMNS).where(C.is_typical.is_(True), in_week(C.closed_at))
    if department_id is not None:
        typical = typical.where(_visible_to(department_id))
    typical = typical.order_by(C.closed_at, C.id).limit(TYPICAL_CASES_LIMIT)
    typical_cases = [_case_ref(row, departments) for row in session.execute(typical)]

    size = (F.fines_yuan + F.losses_recovered_yuan).label("size")
    largest = (
        select(*_CASE_REF_COLUMNS, A.department_id.label("department_id"), F.id.label("feedback_id"),
               F.fines_yuan, F.losses_recovered_yuan, F.cases_filed, size)
        .select_from(Feedback.__table__  # type: ignore[attr-defined]
                     .join(Assignment.__table__, A.id == F.assignment_id)  # type: ignore[attr-defined]
                     .join(Case.__table__, C.id == A.case_id))  # type: ignore[attr-defined]
        .where(F.review_decision == ReviewDecision.APPROVED, in_week(F.reviewed_at), size > 0)
        .order_by(size.desc(), F.id)
        .limit(LARGEST_OUTCOMES_LIMIT)
    )
    if department_id is not None:
        largest = largest.where(A.department_id == department_id)
    outcomes = [
        OutcomeHighlight(case=_case_ref(row, departments), department=_ref(departments[row.department_id]),
                         feedback_id=row.feedback_id, fines_yuan=Decimal(row.fines_yuan).quantize(MONEY),
                         losses_recovered_yuan=Decimal(row.losses_recovered_yuan).quantize(MONEY),
                         cases_filed=row.cases_filed)
        for row in session.execute(largest)
    ]
    return Highlights(typical_cases_closed=typical_cases, largest_outcomes=outcomes)


def _repeat_complaints_by_department(
        session: Session, week: IsoWeek, settings: Settings, now: datetime, departments: dict[int, Department],
        wanted: Sequence[int]) -> dict[int | None, tuple[list[RepeatComplaint], int]]:
    """`_repeat_complaints` for all departments (None) and for each of `wanted`, in two statements."""
    window = _Window.ending_with(week, REPEAT_WEEKS, now, settings)
    refs = {i: _ref(d) for i, d in departments.items()}
    found: dict[int | None, tuple[list[RepeatComplaint], int]] = {
        None: facts.repeat_complaints(session, [window.within(C.created_at)], refs)}
    # A case is in a department's scope when the department leads it or it is shared with it.
    led = select(C.id.label("case_id"), C.lead_department_id.label("d")).where(window.within(C.created_at))
    shared = (select(SHARE.case_id.label("case_id"), SHARE.department_id.label("d"))
              .select_from(CaseShare.__table__.join(Case.__table__, C.id == SHARE.case_id))  # type: ignore[attr-defined]
              .where(window.within(C.created_at)))
    by_department = facts.repeat_complaints_grouped(session, led.union(shared).subquery("visible"), refs)
    for department_id in wanted:
        found[department_id] = by_department.get(department_id, ([], 0))
    return found


def _highlights_by_department(session: Session, window: _Window, departments: dict[int, Department],
                              wanted: Sequence[int]) -> dict[int | None, Highlights]:
    """`_highlights` for all departments (None) and for each of `wanted`: the week's typical cases
    closed (a handful) with the departments they are shared with, and each department's largest
    outcomes by a window function — the overall largest are among the departments' largest."""
    week_start, upto = window.bounds[-2], window.upto

    def in_week(column: Any) -> ColumnElement[bool]:
        return and_(column >= week_start, column < upto)

    typical = [row for row in session.execute(
        select(*_CASE_REF_COLUMNS).where(C.is_typical.is_(True), in_week(C.closed_at)).order_by(C.closed_at, C.id))]
    shares: dict[int, set[int]] = defaultdict(set)
    if typical:
        for case_id, department_id in session.execute(
                select(SHARE.case_id, SHARE.department_id).where(SHARE.case_id.in_([r.id for r in typical]))):
            shares[case_id].add(department_id)

    size = (F.fines_yuan + F.losses_recovered_yuan).label("size")
    position = func.row_number().over(partition_by=A.department_id, order_by=(size.desc(), F.id)).label("position")
    ranked = (
        select(*_CASE_REF_COLUMNS, A.department_id.label("department_id"), F.id.label("feedback_id"),
               F.fines_yuan, F.losses_recovered_yuan, F.cases_filed, size, position)
        .select_from(Feedback.__table__  # type: ignore[attr-defined]
                     .join(Assignment.__table__, A.id == F.assignment_id)  # type: ignore[attr-defined]
                     .join(Case.__table__, C.id == A.case_id))  # type: ignore[attr-defined]
        .where(F.review_decision == ReviewDecision.APPROVED, in_week(F.reviewed_at), size > 0)
        .subquery("ranked")
    )
    largest = list(session.execute(select(ranked).where(ranked.c.position <= LARGEST_OUTCOMES_LIMIT)
                                   .order_by(ranked.c.size.desc(), ranked.c.feedback_id)))

    def outcome(row: Any) -> OutcomeHighlight:
        return OutcomeHighlight(case=_case_ref(row, departments), department=_ref(departments[row.department_id]),
                                feedback_id=row.feedback_id, fines_yuan=Decimal(row.fines_yuan).quantize(MONEY),
                                losses_recovered_yuan=Decimal(row.losses_recovered_yuan).quantize(MONEY),
                                cases_filed=row.cases_filed)

    found: dict[int | None, Highlights] = {None: Highlights(
        typical_cases_closed=[_case_ref(r, departments) for r in typical[:TYPICAL_CASES_LIMIT]],
        largest_outcomes=[outcome(r) for r in largest[:LARGEST_OUTCOMES_LIMIT]])}
    for department_id in wanted:
        visible = [r for r in typical if r.lead_department_id == department_id or department_id in shares[r.id]]
        found[department_id] = Highlights(
            typical_cases_closed=[_case_ref(r, departments) for r in visible[:TYPICAL_CASES_LIMIT]],
            largest_outcomes=[outcome(r) for r in largest if r.department_id == department_id])
    return found


# ------------------------------------------------------------------ league table


def _league(tallies: dict[Key, _Tally], departments: dict[int, Department], current: int,
            floors: Floors) -> list[LeagueRow]:
    shown = {i for i, d in departments.items() if d.active} | {
        d for (b, d) in tallies if b in (current, current - 1) and d in departments}
    rows: list[LeagueRow] = []
    for department_id in shown:
        tally = tallies.get((current, department_id), _Tally())
        figures = tally.figures()
        previous = tallies.get((current - 1, department_id), _Tally())
        level, reasons = levels.level_for(figures.on_time_feedback_rate, tally.max_working_days_overdue, floors)
        rows.append(LeagueRow(
            rank=0, department=_ref(departments[department_id]), figures=figures,
            previous_on_time_feedback_rate=Rate.of(previous.on_time, previous.due),
            max_working_days_overdue=tally.max_working_days_overdue, level=level, level_reasons=reasons,
        ))
    # Best on-time rate first; nothing due at the end; then fewer overdue, then by code.
    rows.sort(key=lambda r: (r.figures.on_time_feedback_rate.value is None,
                             -(r.figures.on_time_feedback_rate.value or 0.0),
                             r.max_working_days_overdue, r.figures.overdue_open, r.department.code))
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    return rows


# ------------------------------------------------------------------ public


def weekly_report(session: Session, week: IsoWeek, department_id: int | None, *, now: datetime,
                  settings: Settings) -> WeeklyReport:
    """The weekly summary of `week`: all departments (None) or one department's section.

    For the week still running, the figures are as of `now` ("this week so far").
    No authorization here: `report_for` is the use case that decides who reads what.
    """
    departments = _departments(session)
    if department_id is not None and department_id not in departments:
        raise NotFound()
    window = _Window.ending_with(week, TREND_WEEKS, now, settings)
    wd = _working_days(session, settings, window)
    collected = _collect(session, window, wd)
    repeated, repeated_total = _repeat_complaints(session, week, settings, now, departments, department_id)
    lists = _Lists(overdue=_overdue_items(session, window, wd, departments, department_id, OVERDUE_LIST_LIMIT),
                   repeated=repeated, repeated_total=repeated_total,
                   highlights=_highlights(session, window, departments, department_id))
    return _report(session, week, department_id, window, departments=departments, collected=collected,
                   lists=lists)


def weekly_reports(session: Session, week: IsoWeek, *, now: datetime, settings: Settings,
                   departments: int | None = None,
                   scopes: Sequence[int | None] | None = None) -> Iterator[tuple[WeeklyReport, ReportRows]]:
    """The full report and every active department's section, each with its rows — what the
    weekly job sends.  `departments` caps the sections; `scopes` names them instead (None: the
    full report), in that order.

    Every statement runs once for all of them: the figures are among the per-department
    tallies; the week's rows (assignments due, overdue, callbacks) are fetched once and
    each section takes its department's; the overdue list is the head of the overdue rows;
    repeat complaints and highlights come from one grouped statement each.  Each section
    is the same as `weekly_report` + `weekly_rows` for its department (tested).
    """
    known = _departments(session)
    window = _Window.ending_with(week, TREND_WEEKS, now, settings)
    wd = _working_days(session, settings, window)
    collected = _collect(session, window, wd)
    if scopes is None:
        scopes = [None, *sorted(i for i, d in known.items() if d.active)[:departments]]
    wanted = [d for d in scopes if d is not None]
    if any(d not in known for d in wanted):
        raise NotFound()
    full_rows = _rows(session, week, None, now, settings, wd, known)
    repeated = _repeat_complaints_by_department(session, week, settings, now, known, wanted)
    highlights = _highlights_by_department(session, window, known, wanted)
    # One section at a time: the job renders and drops each before the next is built.
    for scope in scopes:
        rows = full_rows if scope is None else _rows_of(full_rows, scope)
        lists = _Lists(overdue=rows.overdue[:OVERDUE_LIST_LIMIT], repeated=repeated[scope][0],
                       repeated_total=repeated[scope][1], highlights=highlights[scope])
        yield _report(session, week, scope, window, departments=known, collected=collected, lists=lists), rows


def _rows_of(rows: ReportRows, department_id: int) -> ReportRows:
    """A department's share of the week's rows (filtering keeps every list's order)."""
    return ReportRows(
        assignments_due=[r for r in rows.assignments_due if r.department.id == department_id],
        overdue=[i for i in rows.overdue if i.department.id == department_id],
        callbacks=[r for r in rows.callbacks if r.department.id == department_id],
    )


@dataclass
class _Lists:
    """What a report names besides its figures."""

    overdue: list[OverdueItem]
    repeated: list[RepeatComplaint]
    repeated_total: int
    highlights: Highlights


def _report(session: Session, week: IsoWeek, department_id: int | None, window: _Window, *,
            departments: dict[int, Department], collected: tuple[dict[Key, _Tally], list[int]],
            lists: _Lists) -> WeeklyReport:
    tallies, overall_inspections = collected
    settings, now = window.settings, window.now

    def scope_tally(index: int) -> _Tally:
        if department_id is not None:
            return tallies.get((index, department_id), _Tally())
        total = _Tally()
        for (b, _d), tally in tallies.items():
            if b == index:
                total.add(tally)
        total.inspections = overall_inspections[index]
        return total

    current = len(window.weeks) - 1
    trend = [WeekPoint(week=str(w), figures=scope_tally(i).figures()) for i, w in enumerate(window.weeks)]
    floors = levels.floors(settings)
    tz = settings.tz
    return WeeklyReport(
        week=str(week),
        scope="all" if department_id is None else departments[department_id].code,
        department=None if department_id is None else _ref(departments[department_id]),
        starts_at=week.starts_at(tz),
        ends_at=week.ends_at(tz),
        generated_at=now,
        complete=now >= week.ends_at(tz),
        floors=floors,
        figures=trend[current].figures,
        previous_week=trend[current - 1].figures,
        trend=trend,
        league_table=_league(tallies, departments, current, floors),
        overdue_list=lists.overdue,
        repeat_complaints=lists.repeated,
        repeat_complaint_total=lists.repeated_total,
        highlights=lists.highlights,
    )


def weekly_rows(session: Session, week: IsoWeek, department_id: int | None, *, now: datetime,
                settings: Settings) -> ReportRows:
    """The rows behind the week's figures (assignments due, overdue at the snapshot, callbacks made)."""
    departments = _departments(session)
    wd = _working_days(session, settings, _Window.ending_with(week, 1, now, settings))
    return _rows(session, week, department_id, now, settings, wd, departments)


def _rows(session: Session, week: IsoWeek, department_id: int | None, now: datetime, settings: Settings,
          wd: WorkingDays, departments: dict[int, Department]) -> ReportRows:
    window = _Window.ending_with(week, 1, now, settings)
    due = (
        select(A.id, C.reference, C.title, A.department_id, A.state, A.dispatched_at, A.original_feedback_due_at,
               A.feedback_due_at, A.first_submitted_at,
               flag(status.on_time_sql()).label("on_time"),
               flag(status.on_time_by_extension_sql()).label("by_ext"))
        .select_from(Assignment.__table__.join(Case.__table__, C.id == A.case_id))  # type: ignore[attr-defined]
        .where(window.within(A.feedback_due_at), status.states_in(A.state, NOT_CANCELLED))
        .order_by(A.department_id, A.feedback_due_at, A.id)
    )
    callbacks = (
        select(CB.id, C.reference, CB.department_id, CB.made_at, CB.reached, CB.attempts, CB.satisfaction,
               CB.resolved, CB.note)
        .select_from(Callback.__table__.join(Case.__table__, C.id == CB.case_id))  # type: ignore[attr-defined]
        .where(window.within(CB.made_at))
        .order_by(CB.made_at, CB.id)
    )
    if department_id is not None:
        due = due.where(A.department_id == department_id)
        callbacks = callbacks.where(CB.department_id == department_id)
    return ReportRows(
        assignments_due=[
            DueRow(assignment_id=r.id, case_reference=r.reference, case_title=r.title,
                   department=_ref(departments[r.department_id]), state=str(r.state), dispatched_at=r.dispatched_at,
                   original_feedback_due_at=r.original_feedback_due_at, feedback_due_at=r.feedback_due_at,
                   first_submitted_at=r.first_submitted_at, on_time=bool(r.on_time),
                   on_time_by_extension=bool(r.by_ext))
            for r in session.execute(due)
        ],
        overdue=_overdue_items(session, window, wd, departments, department_id, None),
        callbacks=[
            CallbackRow(callback_id=r.id, case_reference=r.reference, department=_ref(departments[r.department_id]),
                        made_at=r.made_at, reached=bool(r.reached), attempts=r.attempts,
                        satisfaction=None if r.satisfaction is None else str(r.satisfaction),
                        resolved=r.resolved, note=r.note)
            for r in session.execute(callbacks)
        ],
    )


WEEK_FIELD = "iso_week"


def check_reportable(session: Session, week: IsoWeek, *, now: datetime, settings: Settings) -> None:
    """Refuse (422) a week that has not started, or that ended before the first case was created."""
    tz = settings.tz
    first_case = facts.first_case_at(session)
    current = IsoWeek.containing(now, tz)
    first_week = IsoWeek.containing(first_case, tz) if first_case is not None else current
    allowed = {"week": str(week), "first": str(first_week), "last": str(current)}
    if week.starts_at(tz) > now:
        raise Invalid(WEEK_FIELD, N_("report_week_in_future"), **allowed)
    if week.ends_at(tz) <= (first_case or now):
        raise Invalid(WEEK_FIELD, N_("report_week_before_first_case"), **allowed)


def parse_week(text: str) -> IsoWeek:
    """`2026-W48`, or 422 naming the field."""
    try:
        return IsoWeek.parse(text)
    except ValueError:
        raise Invalid(WEEK_FIELD, N_("report_week_invalid"), value=text[:40]) from None


def report_for(session: Session, actor: Actor, week: IsoWeek, *, now: datetime, settings: Settings,
               department_id: int | None = None) -> WeeklyReport:
    """The weekly summary as `actor` may read it.

    Leaders, coordinators and admins (and the system): everything, or one
    department's section if they ask.  A head: its own department's section
    (with the full league table).  Anyone else, or a head asking for another
    department: 404, as for anything outside one's reach.
    """
    if actor.role in READERS:
        if department_id is not None:
            references.require_department(session, department_id, "department_id")
    elif actor.role == Role.HEAD and actor.department_id is not None:
        if department_id is not None and department_id != actor.department_id:
            raise NotFound()
        department_id = actor.department_id
    else:
        raise NotFound()
    check_reportable(session, week, now=now, settings=settings)
    return weekly_report(session, week, department_id, now=now, settings=settings)


def last_complete_week(now: datetime, settings: Settings) -> IsoWeek:
    return IsoWeek.containing(now, settings.tz).previous()
