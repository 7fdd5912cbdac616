from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from shared.columns import utc_field


class CalendarDay(SQLModel, table=True):
    """A date that differs from the Mon–Fri rule: a holiday, or a make-up working day (调休)."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    is_working: bool
    name: str = Field(default="", max_length=64)


class CalendarYear(SQLModel, table=True):
    """A year whose official schedule is loaded; deadlines in other years are provisional."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(max_length=64)
    loaded_at: datetime = utc_field()
