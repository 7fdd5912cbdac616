"""周报: the weekly figures as JSON, for leaders, coordinators, admins and (their section) heads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from services.api.deps import ClockDep, CurrentUser, IdQuery, SessionDep, SettingsDep
from services.api.routes import api_router
from shared.reports.figures import parse_week, report_for
from shared.reports.model import WeeklyReport

router = api_router(tags=["reports"])

WeekPath = Annotated[str, Path(max_length=16, description="An ISO week: 2026-W48 (Monday to Sunday, Asia/Shanghai)",
                               examples=["2026-W48"])]


@router.get("/reports/weekly/{iso_week}", response_model=WeeklyReport,
            responses={404: {"description": "Not a leader, coordinator, admin or department head; or a head "
                                            "asking for another department"}})
def weekly_report(iso_week: WeekPath, session: SessionDep, clock: ClockDep, settings: SettingsDep,
                  user: CurrentUser, department_id: IdQuery = None) -> WeeklyReport:
    """The weekly summary (DESIGN §8) of an ISO week, keys named as its definitions.

    Leaders, coordinators and admins get all departments, or one department's
    section with `department_id`; a department head gets its own section (with
    the full league table).  The week still running is "this week so far"
    (`complete: false`).  A week that has not started, or that ended before the
    first case was created, is 422 naming `iso_week` and the weeks allowed.
    """
    week = parse_week(iso_week)
    return report_for(session, user, week, now=clock.now(), settings=settings, department_id=department_id)
