"""The SQL building blocks the weekly figures and the campaign summary share.

One definition per rule: a return (退单) is a row of `assignment_return`, a
dispatch a row of `assignment_dispatch`; an item returned twice is an
assignment with a second or later return by one department (counted once per
assignment and department); a callback is satisfied when satisfied or
basically satisfied; outcomes are summed over approved feedback; working days
overdue are counted by `workdays_sql` from the due date to the snapshot's
date.  Open, overdue and on time stay in `shared.assignments.status`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentDispatch, AssignmentReturn, AssignmentState
from shared.calendar.service import working_calendar
from shared.callbacks.models import Callback, Satisfaction
from shared.cases.models import Case
from shared.feedback.models import Feedback
from shared.reports.model import CaseRef, DepartmentRef, Outcomes, OverdueItem, RepeatComplaint
from shared.reports.workdays_sql import WorkingDays
from shared.settings import Settings
from shared.users.models import User

A = Assignment.__table__.c  # type: ignore[attr-defined]
C = Case.__table__.c  # type: ignore[attr-defined]
F = Feedback.__table__.c  # type: ignore[attr-defined]
CB = Callback.__table__.c  # type: ignore[attr-defined]
DSP = AssignmentDispatch.__table__.c  # type: ignore[attr-defined]
RET = AssignmentReturn.__table__.c  # type: ignore[attr-defined]
U = User.__table__.c  # type: ignore[attr-defined]

NOT_CANCELLED = tuple(s for s in AssignmentState if s != AssignmentState.CANCELLED)
SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED)
MONEY = Decimal("0.01")
OUTCOME_NAMES = tuple(Outcomes.model_fields)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(flag(condition)), 0)


# ------------------------------------------------------------------ callbacks and outcomes


def callback_flags() -> dict[str, ColumnElement[int]]:
    """1/0 per callback: reached; satisfied (+ basically) and resolved, both over the reached ones."""
    reached = CB.reached.is_(True)
    return {
        "reached": flag(reached),
        "satisfied": flag(and_(reached, CB.satisfaction.in_(SATISFIED))),
        "resolved": flag(and_(reached, CB.resolved.is_(True))),
        "unsatisfied": flag(and_(reached, CB.satisfaction == Satisfaction.UNSATISFIED)),
        "unresolved": flag(and_(reached, CB.resolved.is_(False))),
    }


def outcome_columns() -> list[Any]:
    return [F[name].label(name) for name in OUTCOME_NAMES]


def outcome_sums() -> list[Any]:
    return [func.coalesce(func.sum(F[name]), 0).label(name) for name in OUTCOME_NAMES]


def to_outcomes(values: Mapping[Any, Any]) -> Outcomes:
    return Outcomes(**{name: (Decimal(str(values.get(name) or 0)).quantize(MONEY) if name.endswith("_yuan")
                              else int(values.get(name) or 0)) for name in OUTCOME_NAMES})


# ------------------------------------------------------------------ returns


def returned_twice_pairs(*where: ColumnElement[bool]) -> Any:
    """(assignment, department) pairs with a second or later return among the `where` rows."""
    return (select(RET.assignment_id.label("a"), RET.department_id.label("d"))
            .where(RET.return_number >= 2, *where).distinct())


# ------------------------------------------------------------------ working days


def local_date(at: datetime, settings: Settings) -> date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(settings.tz).date()


def snapshot_day(snapshot: datetime, settings: Settings) -> date:
    """The last local date a snapshot covers: Sunday for a week's end (Monday 00:00 excluded)."""
    return local_date(snapshot - timedelta(microseconds=1), settings)


def first_case_at(session: Session) -> datetime | None:
    return session.scalar(select(func.min(C.created_at)))


def working_days(session: Session, settings: Settings, start: datetime, end: datetime) -> WorkingDays:
    """The ordinals from the first case (nothing the reports read is older) to the snapshot `end`."""
    calendar = working_calendar(session, settings)
    first_case = first_case_at(session)
    first = local_date(start, settings)
    if first_case is not None:
        first = min(first, local_date(first_case, settings))
    dialect = session.get_bind().dialect.name
    return WorkingDays(calendar, dialect, first, snapshot_day(end, settings),
                       offset_seconds=WorkingDays.offset_of(calendar, start))


def days_overdue(wd: WorkingDays, snapshot: datetime, settings: Settings) -> tuple[Any, ColumnElement[int]]:
    """(the calendar alias to join on the due date, working days overdue at the snapshot).

    Working days after the due date up to and including the snapshot's date:
    due Thursday 17:30, 1 working day overdue by Friday evening.
    """
    last = wd.ordinal(snapshot_day(snapshot, settings))
    due = wd.alias("wd_due")
    return due, literal(last) - due.c.ordinal


def overdue_by_department(session: Session, wd: WorkingDays, snapshot: datetime, settings: Settings,
                          *where: ColumnElement[bool]) -> dict[int, tuple[int, int]]:
    """department -> (overdue open at the snapshot, the longest working days overdue)."""
    due, days = days_overdue(wd, snapshot, settings)
    stmt = (select(A.department_id, func.count(), func.max(days))
            .select_from(Assignment.__table__)  # type: ignore[attr-defined]
            .join(due, due.c.day_number == wd.local_day(A.feedback_due_at))
            .where(status.overdue_sql(snapshot), *where)
            .group_by(A.department_id))
    return {d: (n, int(longest or 0)) for d, n, longest in session.execute(stmt)}


def overdue_items(session: Session, wd: WorkingDays, snapshot: datetime, settings: Settings,
                  refs: Mapping[int, DepartmentRef], where: Sequence[ColumnElement[bool]],
                  limit: int | None) -> list[OverdueItem]:
    """超期未反馈 at the snapshot, the longest overdue first, with who holds each."""
    due, days = days_overdue(wd, snapshot, settings)
    days = days.label("days")
    stmt = (
        select(A.id, A.case_id, C.reference, C.title, A.department_id, U.name, A.state, A.feedback_due_at, days)
        .select_from(Assignment.__table__  # type: ignore[attr-defined]
                     .join(Case.__table__, C.id == A.case_id)  # type: ignore[attr-defined]
                     .outerjoin(User.__table__, U.id == A.assignee_id))  # type: ignore[attr-defined]
        .join(due, due.c.day_number == wd.local_day(A.feedback_due_at))
        .where(status.overdue_sql(snapshot), *where)
        .order_by(days.desc(), A.feedback_due_at, A.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        OverdueItem(assignment_id=r[0], case_id=r[1], case_reference=r[2], case_title=r[3],
                    department=refs[r[4]], assignee_name=r[5], state=str(r[6]),
                    feedback_due_at=r[7], working_days_overdue=int(r[8]))
        for r in session.execute(stmt)
    ]


# ------------------------------------------------------------------ repeat complaints

# The reports list the most repeated enterprises; the total is always counted.  On a
# city's data almost every large enterprise is complained about twice in four weeks,
# and a list of thousands is not something a leader reads.
REPEAT_LISTED = 20
CASES_PER_ENTERPRISE = 10


def repeat_complaints(session: Session, scope: Sequence[ColumnElement[bool]], refs: Mapping[int, DepartmentRef],
                      *, listed: int = REPEAT_LISTED,
                      cases_each: int = CASES_PER_ENTERPRISE) -> tuple[list[RepeatComplaint], int]:
    """One enterprise credit code in two or more of the cases `scope` selects: (the most repeated
    first, at most `listed`, each with its first `cases_each` cases; how many enterprises in all)."""
    code = C.enterprise_credit_code
    grouped = (select(code.label("code"), func.count().label("n"), func.max(C.enterprise_name).label("name"))
               .where(*scope, code.is_not(None)).group_by(code).having(func.count() >= 2))
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    top = session.execute(grouped.order_by(func.count().desc(), code).limit(listed)).all()
    if not top:
        return [], total
    ranked = (select(C.id, C.reference, C.title, C.created_at, C.lead_department_id, code.label("code"),
                     func.row_number().over(partition_by=code, order_by=(C.created_at, C.id)).label("position"))
              .where(*scope, code.in_([t.code for t in top])).subquery("ranked"))
    cases: dict[str, list[CaseRef]] = {}
    for r in session.execute(select(ranked).where(ranked.c.position <= cases_each)
                             .order_by(ranked.c.code, ranked.c.position)):
        cases.setdefault(r.code, []).append(CaseRef(id=r.id, reference=r.reference, title=r.title,
                                                    created_at=r.created_at,
                                                    lead_department=refs.get(r.lead_department_id)))
    return [RepeatComplaint(credit_code=t.code, enterprise_name=t.name or "", cases=cases.get(t.code, []))
            for t in top], total


def repeat_complaints_grouped(session: Session, visible: Any, refs: Mapping[int, DepartmentRef], *,
                              listed: int = REPEAT_LISTED, cases_each: int = CASES_PER_ENTERPRISE,
                              ) -> dict[int, tuple[list[RepeatComplaint], int]]:
    """`repeat_complaints` for many scopes at once: `visible` is a subquery of (case_id, d) pairs,
    each scope d the cases paired with it.  department -> (the listed ones, how many in all)."""
    code = C.enterprise_credit_code
    scoped = (select(visible.c.d, C.id, C.reference, C.title, C.created_at, C.lead_department_id,
                     C.enterprise_name, code.label("code"))
              .join_from(visible, Case.__table__, C.id == visible.c.case_id)  # type: ignore[attr-defined]
              .where(code.is_not(None)).subquery("scoped"))
    grouped = (select(scoped.c.d, scoped.c.code, func.count().label("n"), func.max(scoped.c.enterprise_name)
                      .label("name"))
               .group_by(scoped.c.d, scoped.c.code).having(func.count() >= 2).subquery("grouped"))
    ranked = select(grouped, func.count().over(partition_by=grouped.c.d).label("total"),
                    func.row_number().over(partition_by=grouped.c.d,
                                           order_by=(grouped.c.n.desc(), grouped.c.code)).label("rank")
                    ).subquery("ranked_codes")
    top = session.execute(select(ranked).where(ranked.c.rank <= listed)
                          .order_by(ranked.c.d, ranked.c.rank)).all()
    found: dict[int, tuple[list[RepeatComplaint], int]] = {}
    if not top:
        return found
    tops = select(ranked.c.d, ranked.c.code).where(ranked.c.rank <= listed).subquery("tops")
    cases_ranked = (
        select(scoped, func.row_number().over(partition_by=(scoped.c.d, scoped.c.code),
                                              order_by=(scoped.c.created_at, scoped.c.id)).label("position"))
        .join(tops, and_(tops.c.d == scoped.c.d, tops.c.code == scoped.c.code)).subquery("cases_ranked"))
    cases: dict[tuple[int, str], list[CaseRef]] = {}
    for r in session.execute(select(cases_ranked).where(cases_ranked.c.position <= cases_each)
                             .order_by(cases_ranked.c.d, cases_ranked.c.code, cases_ranked.c.position)):
        cases.setdefault((r.d, r.code), []).append(CaseRef(id=r.id, reference=r.reference, title=r.title,
                                                           created_at=r.created_at,
                                                           lead_department=refs.get(r.lead_department_id)))
    for t in top:
        listed_here, _ = found.setdefault(t.d, ([], t.total))
        listed_here.append(RepeatComplaint(credit_code=t.code, enterprise_name=t.name or "",
                                           cases=cases.get((t.d, t.code), [])))
    return found
