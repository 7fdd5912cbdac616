"""When a week's summary goes out (DESIGN §8, issue 9 §4): pure rules, no database.

A week's report goes out on the first working day on or after the Monday that
follows it, at `Settings.report_send_at` local time (08:00 by default): on an
ordinary Monday that Monday, on a Monday that is a holiday (2026-10-05, National
Day) the first working day after it (Thursday 2026-10-08).  A week with no
working day at all (the Spring Festival week 2026-W08) simply waits for the next
working day, so two reports may go out on the same morning.

The clock decides, not the beat: `due_weeks(now)` says which weeks are due at
this moment, so a beat that fires once a day at the send time (or more often) is
enough, and a worker that was down catches up at the next beat.  A week stays
due until the next week's moment (at least a day, for two reports on one
morning); after that it is left to an admin (`gongzhi report weekly --week …
--send`).  Delivery itself (shared/reports/delivery.py) makes a week that
already went out a no-op.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from shared.calendar.rules import WorkingCalendar
from shared.reports.weeks import IsoWeek

# Two reports due on the same morning (after a week without working days) both stay due that day.
MIN_CATCH_UP = timedelta(days=1)
# How far back a week's send moment can lie: long holidays push it at most a week or two.
_LOOK_BACK_WEEKS = 3
# A calendar without any working day must not loop forever.
_MAX_SEARCH_DAYS = 60


def send_day(week: IsoWeek, calendar: WorkingCalendar) -> date:
    """The first working day on or after the Monday after `week` (that Monday if none is found)."""
    monday = week.monday + timedelta(days=7)
    for offset in range(_MAX_SEARCH_DAYS):
        day = monday + timedelta(days=offset)
        if calendar.is_working_day(day):
            return day
    return monday


def send_moment(week: IsoWeek, calendar: WorkingCalendar, send_at: time) -> datetime:
    """`send_day` at `send_at` local, in UTC."""
    return datetime.combine(send_day(week, calendar), send_at, calendar.tz).astimezone(UTC)


def due_weeks(now: datetime, calendar: WorkingCalendar, send_at: time) -> list[IsoWeek]:
    """The weeks whose report should have gone out by `now`, and whose successor's moment has not come."""
    current = IsoWeek.containing(now, calendar.tz)
    due = []
    for back in range(_LOOK_BACK_WEEKS, 0, -1):
        week = current.shifted(-back)
        moment = send_moment(week, calendar, send_at)
        until = max(send_moment(week.shifted(1), calendar, send_at), moment + MIN_CATCH_UP)
        if moment <= now < until:
            due.append(week)
    return due
