"""The SQL figures against a plain Python recount, over random small datasets (hypothesis).

The recount reads the generated rows one by one and applies DESIGN §8's
definitions with `shared.assignments.status`'s Python predicates and
`WorkingCalendar.working_days_between`; the report computes the same in SQL
(GROUP BY, CASE, the VALUES calendar).  Instants are drawn around the week's
boundaries (to the microsecond either side), in a holiday week, a week across
New Year and a week of 2027 (no official schedule yet: provisional days).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from shared.assignments import status
from shared.assignments.models import (
    Assignment,
    AssignmentDispatch,
    AssignmentReturn,
    AssignmentState,
    ReturnReason,
)
from shared.calendar.service import working_calendar
from shared.callbacks.models import Callback, Satisfaction
from shared.cases.models import Case, CaseShare, CaseSource, CaseStatus
from shared.feedback.models import Feedback, ReviewDecision
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.reports.figures import weekly_report
from shared.reports.model import Callbacks, Figures, Latency, Outcomes, Rate, Returns
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from tests.factories import World

SETTINGS = Settings()
TZ = SETTINGS.tz
WEEKS = [IsoWeek(2026, 40), IsoWeek(2026, 1), IsoWeek(2027, 6)]
DEPTS = ("SCJG", "GAJ", "TYJ")
CODES = (None, "91320100MA1PROP0X1", "91320100MA1PROP0X2")
CATEGORIES = ("预付式消费", "食品安全", "虚假广告")
SPAN_MINUTES = 36 * 24 * 60
MONEY = Decimal("0.01")
_serial = count()


# ------------------------------------------------------------------ strategies


@dataclass
class Data:
    week: IsoWeek
    now: datetime
    cases: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    returns: list[dict[str, Any]] = field(default_factory=list)
    inspections: list[dict[str, Any]] = field(default_factory=list)


@st.composite
def datasets(draw: Any) -> Data:
    week = draw(st.sampled_from(WEEKS))
    base = week.starts_at(TZ) - timedelta(days=21)
    edges = [week.starts_at(TZ), week.ends_at(TZ), week.previous().starts_at(TZ)]
    tiny = timedelta(microseconds=1)

    def instant() -> datetime:
        return draw(st.one_of(
            st.integers(0, SPAN_MINUTES).map(lambda m: base + timedelta(minutes=m)),
            st.sampled_from([e + d for e in edges for d in (-tiny, timedelta(0), tiny)]),
        ))

    def after(moment: datetime) -> datetime:
        return moment + draw(st.one_of(st.just(timedelta(0)),
                                       st.integers(1, 14 * 24 * 60).map(lambda m: timedelta(minutes=m))))

    def maybe(make: Any) -> Any:
        return make() if draw(st.booleans()) else None

    now = draw(st.one_of(st.just(week.ends_at(TZ) + timedelta(days=3)),
                         st.integers(0, 9 * 24 * 60).map(lambda m: week.starts_at(TZ) + timedelta(minutes=m))))
    data = Data(week=week, now=now)
    for _ in range(draw(st.integers(1, 5))):
        created = instant()
        data.cases.append({"created_at": created, "closed_at": maybe(lambda c=created: after(c)),
                           "lead": draw(st.sampled_from(DEPTS)), "code": draw(st.sampled_from(CODES)),
                           "category": draw(st.sampled_from(CATEGORIES)),
                           "typical": draw(st.booleans())})
    for _ in range(draw(st.integers(0, 8))):
        dispatched = instant()
        due = after(dispatched)
        data.assignments.append({
            "case": draw(st.integers(0, len(data.cases) - 1)), "dept": draw(st.sampled_from(DEPTS)),
            "state": draw(st.sampled_from(list(AssignmentState))), "dispatched_at": dispatched,
            "acceptance_due_at": after(dispatched), "feedback_due_at": due,
            "original_feedback_due_at": draw(st.sampled_from([due, dispatched])),
            "accepted_at": maybe(lambda d=dispatched: after(d)),
            "first_submitted_at": maybe(lambda d=dispatched: after(d)),
        })
    for index in range(len(data.assignments)):
        for _ in range(draw(st.integers(0, 2))):
            data.feedback.append({
                "assignment": index, "submitted_at": instant(),
                "decision": draw(st.sampled_from([None, ReviewDecision.APPROVED, ReviewDecision.SENT_BACK])),
                "reviewed_at": instant(), "enterprises_inspected": draw(st.integers(0, 3)),
                "cases_filed": draw(st.integers(0, 2)),
                "fines_yuan": Decimal(draw(st.integers(0, 100000))) / 100,
                "losses_recovered_yuan": Decimal(draw(st.integers(0, 5000))) / 100,
            })
        for _ in range(draw(st.integers(0, 2))):
            data.dispatches.append({"assignment": index, "dept": draw(st.sampled_from(DEPTS)), "at": instant()})
        for number in range(1, draw(st.integers(0, 3)) + 1):
            data.returns.append({"assignment": index, "dept": draw(st.sampled_from(DEPTS)), "at": instant(),
                                 "reason": draw(st.sampled_from(list(ReturnReason))), "number": number})
        for _ in range(draw(st.integers(0, 1))):
            reached = draw(st.booleans())
            data.callbacks.append({
                "assignment": index, "dept": draw(st.sampled_from(DEPTS)), "at": instant(), "reached": reached,
                "satisfaction": draw(st.sampled_from(list(Satisfaction))) if reached else None,
                "resolved": draw(st.booleans()) if reached else None,
            })
    for _ in range(draw(st.integers(0, 2))):
        data.inspections.append({
            "status": draw(st.sampled_from(list(InspectionStatus))), "completed_at": maybe(instant),
            "participants": draw(st.sets(st.sampled_from(DEPTS), min_size=1)),
        })
    return data


# ------------------------------------------------------------------ storing


def _clear(session: Session) -> None:
    for table in (Callback, Feedback, AssignmentReturn, AssignmentDispatch, InspectionParticipant, Assignment,
                  Inspection, CaseShare, Case):
        session.execute(delete(table))
    session.commit()


def _store(session: Session, world: World, data: Data) -> tuple[list[int], list[int]]:
    """Insert the rows as they are (not through the use cases: any combination is fair game)."""
    coordinator = world.coordinator.id
    case_ids: list[int] = []
    for c in data.cases:
        row = Case(reference=f"P{next(_serial)}", title="随机案件", source=CaseSource.HOTLINE_12315,
                   category=c["category"],
                   enterprise_credit_code=c["code"], enterprise_name=c["code"] and "某公司",
                   status=CaseStatus.CLOSED if c["closed_at"] else CaseStatus.OPEN,
                   lead_department_id=world.dept(c["lead"]).id, coordinator_id=coordinator,
                   is_typical=c["typical"], created_at=c["created_at"], updated_at=c["created_at"],
                   closed_at=c["closed_at"])
        session.add(row)
        session.flush()
        case_ids.append(row.id)  # type: ignore[arg-type]
    assignment_ids: list[int] = []
    for a in data.assignments:
        row = Assignment(case_id=case_ids[a["case"]], department_id=world.dept(a["dept"]).id, state=a["state"],
                         dispatched_by=coordinator, dispatched_at=a["dispatched_at"],
                         acceptance_due_at=a["acceptance_due_at"], feedback_due_at=a["feedback_due_at"],
                         original_feedback_due_at=a["original_feedback_due_at"], working_days=3,
                         accepted_at=a["accepted_at"], first_submitted_at=a["first_submitted_at"],
                         updated_at=a["dispatched_at"])
        session.add(row)
        session.flush()
        assignment_ids.append(row.id)  # type: ignore[arg-type]
    for f in data.feedback:
        session.add(Feedback(
            assignment_id=assignment_ids[f["assignment"]], author_id=coordinator, submitted_at=f["submitted_at"],
            narrative="随机", review_decision=f["decision"], reviewed_at=f["reviewed_at"] if f["decision"] else None,
            enterprises_inspected=f["enterprises_inspected"], cases_filed=f["cases_filed"],
            fines_yuan=f["fines_yuan"], losses_recovered_yuan=f["losses_recovered_yuan"]))
    for d in data.dispatches:
        a = data.assignments[d["assignment"]]
        session.add(AssignmentDispatch(assignment_id=assignment_ids[d["assignment"]], case_id=case_ids[a["case"]],
                                       department_id=world.dept(d["dept"]).id, dispatched_at=d["at"]))
    for r in data.returns:
        a = data.assignments[r["assignment"]]
        session.add(AssignmentReturn(assignment_id=assignment_ids[r["assignment"]], case_id=case_ids[a["case"]],
                                     department_id=world.dept(r["dept"]).id, returned_at=r["at"],
                                     reason=r["reason"], return_number=r["number"]))
    for cb in data.callbacks:
        a = data.assignments[cb["assignment"]]
        session.add(Callback(case_id=case_ids[a["case"]], assignment_id=assignment_ids[cb["assignment"]],
                             department_id=world.dept(cb["dept"]).id, made_by=coordinator, made_at=cb["at"],
                             reached=cb["reached"], attempts=1, satisfaction=cb["satisfaction"],
                             resolved=cb["resolved"], updated_at=cb["at"]))
    for i in data.inspections:
        row = Inspection(lead_department_id=world.dept("SCJG").id, title="随机检查",
                         scheduled_on=data.week.monday, status=i["status"], created_by=coordinator,
                         created_at=data.now, updated_at=data.now, completed_at=i["completed_at"])
        session.add(row)
        session.flush()
        for dept in i["participants"]:
            session.add(InspectionParticipant(inspection_id=row.id, department_id=world.dept(dept).id))  # type: ignore[arg-type]
    session.commit()
    return case_ids, assignment_ids


# ------------------------------------------------------------------ the recount


def _latency(days: list[int]) -> Latency:
    if not days:
        return Latency(count=0, median_working_days=None, mean_working_days=None)
    return Latency(count=len(days), median_working_days=float(statistics.median(days)),
                   mean_working_days=statistics.mean(days))


def recount(data: Data, week: IsoWeek, calendar: Any, dept: str | None) -> tuple[Figures, int]:
    """(figures, longest working days overdue) for one week and one department (None = all), by hand."""
    start, end = week.starts_at(TZ), week.ends_at(TZ)
    upto = snapshot = min(end, data.now)

    def inside(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < upto

    def mine(d: str) -> bool:
        return dept is None or d == dept

    created = [c for c in data.cases if mine(c["lead"]) and inside(c["created_at"])]
    new = len(created)
    by_category = Counter(c["category"] for c in created)
    closed = sum(1 for c in data.cases if mine(c["lead"]) and inside(c["closed_at"]))
    work = [a for a in data.assignments if mine(a["dept"])]
    due = [a for a in work if a["state"] != AssignmentState.CANCELLED and inside(a["feedback_due_at"])]
    on_time = [a for a in due if status.is_on_time(a["first_submitted_at"], a["feedback_due_at"])]
    by_ext = [a for a in due if status.is_on_time_by_extension(a["first_submitted_at"], a["feedback_due_at"],
                                                               a["original_feedback_due_at"])]
    overdue = [a for a in work if status.is_overdue(a["state"], a["feedback_due_at"], snapshot)]
    last_moment = snapshot - timedelta(microseconds=1)
    longest = max((calendar.working_days_between(a["feedback_due_at"], last_moment) for a in overdue), default=0)
    acc_due = [a for a in work if a["state"] != AssignmentState.CANCELLED and inside(a["acceptance_due_at"])]
    accepted = [a for a in acc_due if status.is_accepted_on_time(a["accepted_at"], a["acceptance_due_at"])]
    fb_latency = [calendar.working_days_between(a["dispatched_at"], a["first_submitted_at"])
                  for a in work if inside(a["first_submitted_at"])]
    acc_latency = [calendar.working_days_between(a["dispatched_at"], a["accepted_at"])
                   for a in work if inside(a["accepted_at"])]
    returns = [r for r in data.returns if mine(r["dept"]) and inside(r["at"])]
    by_reason = Counter(str(r["reason"]) for r in returns)
    twice = len({(r["assignment"], r["dept"]) for r in returns if r["number"] >= 2})
    dispatches = sum(1 for d in data.dispatches if mine(d["dept"]) and inside(d["at"]))
    calls = [cb for cb in data.callbacks if mine(cb["dept"]) and inside(cb["at"])]
    reached = [cb for cb in calls if cb["reached"]]
    satisfied = sum(1 for cb in reached if cb["satisfaction"] in (Satisfaction.SATISFIED,
                                                                  Satisfaction.BASICALLY_SATISFIED))
    resolved = sum(1 for cb in reached if cb["resolved"])
    held = sum(1 for i in data.inspections if i["status"] == InspectionStatus.DONE and inside(i["completed_at"])
               and (dept is None or dept in i["participants"]))
    approved = [f for f in data.feedback if f["decision"] == ReviewDecision.APPROVED and inside(f["reviewed_at"])
                and mine(data.assignments[f["assignment"]]["dept"])]
    outcomes = Outcomes(
        enterprises_inspected=sum(f["enterprises_inspected"] for f in approved),
        cases_filed=sum(f["cases_filed"] for f in approved),
        fines_yuan=sum((f["fines_yuan"] for f in approved), Decimal(0)).quantize(MONEY),
        losses_recovered_yuan=sum((f["losses_recovered_yuan"] for f in approved), Decimal(0)).quantize(MONEY),
    )
    figures = Figures(
        new_cases=new, closed_cases=closed, assignments_due=len(due), on_time=len(on_time),
        on_time_by_extension=len(by_ext), on_time_feedback_rate=Rate.of(len(on_time), len(due)),
        overdue_open=len(overdue), feedback_latency=_latency(fb_latency), acceptance_latency=_latency(acc_latency),
        acceptance_due=len(acc_due), accepted_on_time=len(accepted),
        on_time_acceptance_rate=Rate.of(len(accepted), len(acc_due)),
        returns=Returns(returns=len(returns), by_reason={r.value: by_reason.get(r.value, 0) for r in ReturnReason},
                        dispatches=dispatches, return_rate=Rate.of(len(returns), dispatches), returned_twice=twice),
        callbacks=Callbacks(made=len(calls), reached=len(reached), satisfied=satisfied, resolved=resolved,
                            satisfaction_rate=Rate.of(satisfied, len(reached)),
                            resolution_rate=Rate.of(resolved, len(reached))),
        inspections_held=held, outcomes=outcomes, new_cases_by_category=dict(by_category),
    )
    return figures, longest


def _comparable(figures: Figures) -> dict[str, Any]:
    body = figures.model_dump()
    for key in ("fines_yuan", "losses_recovered_yuan"):
        body["outcomes"][key] = Decimal(body["outcomes"][key]).quantize(MONEY)
    return body


# ------------------------------------------------------------------ the property


def test_sql_figures_equal_a_python_recount(session: Session, world: World) -> None:
    calendar = working_calendar(session, SETTINGS)

    # Fixed examples (as the API fuzzing does), and no shrinking: a failure prints the generated
    # dataset as it is, in seconds rather than the minutes shrinking a database round trip takes.
    @settings(max_examples=30, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=datasets())
    def check(data: Data) -> None:
        _clear(session)
        case_ids, assignment_ids = _store(session, world, data)
        report = weekly_report(session, data.week, None, now=data.now, settings=SETTINGS)
        session.commit()
        assert _comparable(report.figures) == _comparable(recount(data, data.week, calendar, None)[0])
        assert _comparable(report.previous_week) == _comparable(
            recount(data, data.week.previous(), calendar, None)[0])
        rows = {row.department.code: row for row in report.league_table}
        for dept in DEPTS:
            expected, longest = recount(data, data.week, calendar, dept)
            assert _comparable(rows[dept].figures) == _comparable(expected), dept
            assert rows[dept].max_working_days_overdue == longest, dept
            previous, _ = recount(data, data.week.previous(), calendar, dept)
            assert rows[dept].previous_on_time_feedback_rate == previous.on_time_feedback_rate
        # The overdue list names exactly the overdue assignments, longest overdue first.
        snapshot = min(data.week.ends_at(TZ), data.now)
        overdue = {assignment_ids[i]: calendar.working_days_between(a["feedback_due_at"],
                                                                    snapshot - timedelta(microseconds=1))
                   for i, a in enumerate(data.assignments)
                   if status.is_overdue(a["state"], a["feedback_due_at"], snapshot)}
        assert {i.assignment_id: i.working_days_overdue for i in report.overdue_list} == overdue
        days = [i.working_days_overdue for i in report.overdue_list]
        assert days == sorted(days, reverse=True)
        # Repeat complaints: a credit code in two or more cases created in the four weeks.
        window_start = data.week.shifted(-3).starts_at(TZ)
        window_end = min(data.week.ends_at(TZ), data.now)
        by_code: dict[str, list[int]] = {}
        for index, c in enumerate(data.cases):
            if c["code"] and window_start <= c["created_at"] < window_end:
                by_code.setdefault(c["code"], []).append(case_ids[index])
        assert {rc.credit_code: sorted(x.id for x in rc.cases) for rc in report.repeat_complaints} == {
            code: sorted(ids) for code, ids in by_code.items() if len(ids) >= 2}

    check()
