"""Open, overdue and due soon: the one place each is decided (一处定义).

Each rule is written twice, side by side: a Python predicate for an object in
hand and a SQL expression for a query.  The queue, the pages, the API, the
reminder pass and the weekly figures import these names; nobody compares a due
time with `now` anywhere else.  tests/test_assignment_status.py feeds the same
rows to both and checks they agree one second before, at and after a due time.

- open (未办结): work not finished — dispatched, accepted, awaiting the
  department head's sign-off (待审签), submitted, or returned and waiting for
  the coordinator to re-dispatch or cancel.  A case
  closes only when none of its assignments is open.
- active (计时中): the deadline clock runs — dispatched or accepted.  Only
  active work can be overdue or due soon; submitted work waits on the reviewer,
  and feedback awaiting sign-off waits on the department head (the sign-off
  reminder chases him, shared/reminders).
- overdue (已逾期): active and `now` strictly past the feedback due time in
  force (after approved extensions).  At the due instant itself it is not yet
  overdue.  Derived, never stored.
- acceptance overdue (超时未签收): still dispatched and `now` strictly past the
  acceptance due time.
- due soon (即将到期): active, not overdue, and due no later than close of
  business of the N-th working day from today, N being
  `Settings.reminder_due_soon_working_days` — the same window the reminder
  emails use.
- on time (按时反馈): the first feedback was submitted by the feedback due time
  in force (at the due instant itself it is still on time).  Where the head
  signs feedback off (审签), the time that counts is the liaison's submission,
  not the sign-off: `first_submitted_at` is set when the liaison submits, as it
  stays put when the coordinator sends work back, so a slow head does not make
  his department late (his delay is chased by the sign-off reminder instead).  On time by
  extension (延期后按时): on time, but after the original due time.
- accepted on time (按时签收): accepted by the acceptance due time.

When time alone changes these (`unchanged_through`): a flag or count decided
at `now` holds through the earliest due time `now` has not yet passed (at that
instant nothing is overdue yet; just after it, that item is), and the due-soon
window moves at local midnight.  Whatever keeps an answer built from them
(the queue) keeps it no longer than that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

from shared.assignments.models import Assignment, AssignmentState
from shared.calendar.rules import WorkingCalendar

S = AssignmentState

OPEN_STATES: tuple[AssignmentState, ...] = (S.DISPATCHED, S.ACCEPTED, S.AWAITING_SIGNOFF, S.SUBMITTED, S.RETURNED)
ACTIVE_STATES: tuple[AssignmentState, ...] = (S.DISPATCHED, S.ACCEPTED)
CLOSED_STATES: tuple[AssignmentState, ...] = (S.DONE, S.CANCELLED)

_COLUMNS = Assignment.__table__.c  # type: ignore[attr-defined]


def states_in(column: Any, states: Iterable[AssignmentState]) -> ColumnElement[bool]:
    """column IN ('…', '…') with our own constants written out, not bound.

    A prepared statement can then still use the partial indexes, whose
    predicate names the states, and nothing is expanded per execution.
    """
    return column.in_([literal_column(f"'{S(s).value}'") for s in states])  # type: ignore[no-any-return]


# ------------------------------------------------------------------ open

def is_open(state: AssignmentState | str) -> bool:
    return S(state) in OPEN_STATES


def open_sql(columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return states_in(columns.state, OPEN_STATES)


def is_active(state: AssignmentState | str) -> bool:
    return S(state) in ACTIVE_STATES


def active_sql(columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return states_in(columns.state, ACTIVE_STATES)


# ------------------------------------------------------------------ overdue

def is_overdue(state: AssignmentState | str, feedback_due_at: datetime, now: datetime) -> bool:
    """逾期: active and strictly past the feedback due time."""
    return is_active(state) and feedback_due_at < now


def overdue_sql(now: Any, columns: Any = _COLUMNS) -> ColumnElement[bool]:
    """The same condition in SQL; `now` may be a datetime or a bind parameter."""
    return and_(active_sql(columns), columns.feedback_due_at < now)


def is_acceptance_overdue(state: AssignmentState | str, acceptance_due_at: datetime, now: datetime) -> bool:
    """超时未签收: still dispatched and strictly past the acceptance due time."""
    return S(state) == S.DISPATCHED and acceptance_due_at < now


def acceptance_overdue_sql(now: Any, columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return and_(states_in(columns.state, (S.DISPATCHED,)), columns.acceptance_due_at < now)


# ------------------------------------------------------------------ due soon

def due_soon_cutoff(calendar: WorkingCalendar, now: datetime, working_days: int | None = None) -> datetime:
    """The end of the due-soon window: close of business of the N-th working day after today.

    It depends on `now` only through its local date, so it moves at local midnight.
    """
    if working_days is None:
        from shared.settings import get_settings

        working_days = get_settings().reminder_due_soon_working_days
    return calendar.add_working_days(now, working_days).at


def is_due_soon(state: AssignmentState | str, feedback_due_at: datetime, now: datetime, cutoff: datetime) -> bool:
    """即将到期: active, not yet overdue, due by `cutoff` (from due_soon_cutoff)."""
    return is_active(state) and now <= feedback_due_at <= cutoff


def due_soon_sql(now: Any, cutoff: Any, columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return and_(active_sql(columns), columns.feedback_due_at >= now, columns.feedback_due_at <= cutoff)


# ------------------------------------------------------------------ when time alone changes them

def next_due_sql(now: Any, columns: Any = _COLUMNS) -> Any:
    """The earliest feedback due time of active work that `now` has not passed (an aggregate; NULL: none)."""
    return func.min(columns.feedback_due_at).filter(and_(active_sql(columns), columns.feedback_due_at >= now))


def unchanged_through(calendar: WorkingCalendar, now: datetime, due_times: Iterable[datetime | None]) -> datetime:
    """The last instant through which every flag and count decided at `now` stays as it was.

    DUE_TIMES are the due times they were decided on (feedback due times of
    active work, acceptance due times of dispatched work; None ignored).
    Overdue is strict, so at a due instant itself nothing changes yet; the
    due-soon window (due_soon_cutoff) moves at the next local midnight.
    """
    local = now.astimezone(calendar.tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=calendar.tz)
    ahead = [t for t in due_times if t is not None and t >= now]
    return min([*ahead, midnight - timedelta(microseconds=1)])


# ------------------------------------------------------------------ on time

def is_on_time(first_submitted_at: datetime | None, feedback_due_at: datetime) -> bool:
    """按时反馈: first feedback submitted by the due time in force."""
    return first_submitted_at is not None and first_submitted_at <= feedback_due_at


def on_time_sql(columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return and_(columns.first_submitted_at.is_not(None), columns.first_submitted_at <= columns.feedback_due_at)


def is_on_time_by_extension(first_submitted_at: datetime | None, feedback_due_at: datetime,
                            original_feedback_due_at: datetime) -> bool:
    """On time only thanks to an approved extension: after the original due time."""
    return is_on_time(first_submitted_at, feedback_due_at) and (
        first_submitted_at is not None and first_submitted_at > original_feedback_due_at
    )


def on_time_by_extension_sql(columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return and_(on_time_sql(columns), columns.first_submitted_at > columns.original_feedback_due_at)


def is_accepted_on_time(accepted_at: datetime | None, acceptance_due_at: datetime) -> bool:
    """按时签收: accepted by the acceptance due time."""
    return accepted_at is not None and accepted_at <= acceptance_due_at


def accepted_on_time_sql(columns: Any = _COLUMNS) -> ColumnElement[bool]:
    return and_(columns.accepted_at.is_not(None), columns.accepted_at <= columns.acceptance_due_at)
