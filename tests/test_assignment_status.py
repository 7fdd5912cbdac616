"""The Python predicates and the SQL expressions of shared.assignments.status agree at the boundaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState
from tests.conftest import DEFAULT_NOW

DUE = DEFAULT_NOW + timedelta(days=1)
CUTOFF = DEFAULT_NOW + timedelta(days=3)


def _row(session: Session, state: AssignmentState, case_id: int, dept_id: int, user_id: int) -> Assignment:
    a = Assignment(case_id=case_id, department_id=dept_id, state=state, dispatched_by=user_id,
                   dispatched_at=DEFAULT_NOW, acceptance_due_at=DUE, feedback_due_at=DUE,
                   original_feedback_due_at=DUE, working_days=1, updated_at=DEFAULT_NOW)
    session.add(a)
    return a


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_python_and_sql_agree_around_the_due_time(session, world, make_case, offset: int) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    rows = [_row(session, s, case.id, world.dept("XFXH").id, world.coordinator.id) for s in AssignmentState]
    session.commit()
    now = DUE + timedelta(seconds=offset)

    def ids(condition) -> set[int]:  # type: ignore[no-untyped-def]
        return set(session.scalars(select(Assignment.id).where(condition)))  # type: ignore[call-overload]

    c = Assignment.__table__.c  # type: ignore[attr-defined]
    assert ids(status.overdue_sql(now, c)) == {a.id for a in rows if status.is_overdue(a.state, a.feedback_due_at, now)}
    assert ids(status.acceptance_overdue_sql(now, c)) == {
        a.id for a in rows if status.is_acceptance_overdue(a.state, a.acceptance_due_at, now)}
    assert ids(status.due_soon_sql(now, CUTOFF, c)) == {
        a.id for a in rows if status.is_due_soon(a.state, a.feedback_due_at, now, CUTOFF)}
    assert ids(status.open_sql(c)) == {a.id for a in rows if status.is_open(a.state)}
    overdue_states = {a.state for a in rows if status.is_overdue(a.state, a.feedback_due_at, now)}
    # Strictly past: at the due instant nothing is overdue yet, a second later the active work is.
    assert overdue_states == ({AssignmentState.DISPATCHED, AssignmentState.ACCEPTED} if offset > 0 else set())


def test_returned_work_is_open_but_not_on_the_clock() -> None:
    assert status.is_open(AssignmentState.RETURNED)
    assert not status.is_overdue(AssignmentState.RETURNED, DUE, DUE + timedelta(days=9))
    assert not status.is_open(AssignmentState.DONE) and not status.is_open(AssignmentState.CANCELLED)
