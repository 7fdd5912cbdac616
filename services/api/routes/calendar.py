"""The working calendar: read a year, see what is missing, load an official schedule."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, Field

from services.api.deps import ClockDep, CurrentUser, LanguageDep, SessionDep, SettingsDep
from services.api.routes import api_router
from shared.calendar import service
from shared.i18n import translate
from shared.inputs import Input

router = api_router(tags=["calendar"])

YearPath = Annotated[int, Path(ge=service.MIN_YEAR, le=service.MAX_YEAR)]


class SpecialDayOut(BaseModel):
    date: dt.date
    is_working: bool
    name: str


class CalendarOut(BaseModel):
    year: int
    official: bool
    provisional: bool
    loaded: bool
    source: str | None
    loaded_at: dt.datetime | None
    days: list[SpecialDayOut]


class WarningOut(BaseModel):
    code: str
    year: int
    message: str


class StatusOut(BaseModel):
    warnings: list[WarningOut]


class DayIn(Input):
    date: dt.date
    name: str = Field(default="", max_length=service.NAME_MAX)


class YearIn(Input):
    """The official notice: holidays (放假) and make-up working days (调休上班).

    Items are dates ("2027-02-06") or {"date": "2027-02-06", "name": "春节"}.
    Listing weekend holidays is fine; only days that differ from Mon–Fri are stored.
    """

    holidays: list[dt.date | DayIn] = Field(default_factory=list, max_length=366)
    workdays: list[dt.date | DayIn] = Field(default_factory=list, max_length=366)


class RecomputeOut(BaseModel):
    year: int
    official: bool = True
    source: str
    holidays: int
    workdays: int
    checked: int
    recomputed: int
    still_provisional: int
    assignment_ids: list[int]


def _items(items: list[dt.date | DayIn]) -> list[dt.date | tuple[dt.date, str]]:
    return [(item.date, item.name) if isinstance(item, DayIn) else item for item in items]


@router.get("/calendar", response_model=CalendarOut)
def get_calendar(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, _user: CurrentUser,
    year: Annotated[int | None, Query(ge=service.MIN_YEAR, le=service.MAX_YEAR)] = None,
) -> CalendarOut:
    """The days of a year that differ from Mon–Fri, and whether its schedule is official."""
    if year is None:
        year = clock.now().astimezone(settings.tz).year
    view = service.year_view(session, year)
    return CalendarOut(
        year=view.year, official=view.official, provisional=view.provisional, loaded=view.loaded,
        source=view.source, loaded_at=view.loaded_at,
        days=[SpecialDayOut(date=d.day, is_working=d.is_working, name=d.name) for d in view.days],
    )


@router.get("/calendar/status", response_model=StatusOut)
def calendar_status(
    session: SessionDep, clock: ClockDep, settings: SettingsDep, user: CurrentUser, lang: LanguageDep
) -> StatusOut:
    """Warnings for admins: a missing official schedule for this year, or (from November) next year."""
    warnings = service.calendar_warnings(session, clock, user, settings)
    return StatusOut(warnings=[
        WarningOut(code=w["key"], year=w["year"], message=translate(w["key"], lang, year=w["year"]))
        for w in warnings
    ])


@router.put("/calendar/{year}", response_model=RecomputeOut)
def put_calendar(
    year: YearPath, body: YearIn, session: SessionDep, clock: ClockDep, settings: SettingsDep,
    user: CurrentUser,
) -> RecomputeOut:
    """Load a year's official schedule (admins); provisional deadlines in it are recomputed."""
    result = service.load_official_year(
        session, clock, user, year, _items(body.holidays), _items(body.workdays), service.ADMIN_SOURCE,
        settings=settings,
    )
    session.commit()
    return RecomputeOut(
        year=result.year, source=service.ADMIN_SOURCE, holidays=result.holidays, workdays=result.workdays,
        checked=result.checked, recomputed=result.recomputed, still_provisional=result.still_provisional,
        assignment_ids=result.assignment_ids,
    )
