"""The ISO week the weekly summary counts (DESIGN §8): Monday 00:00 to Sunday 24:00 local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """`2026-W48`; raises ValueError for anything else, including week 53 of a 52-week year."""
        match = _WEEK.match(text.strip())
        if not match:
            raise ValueError(f"not an ISO week like 2026-W48: {text!r}")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise ValueError(f"{year} has no week {week}") from exc
        return cls.of(monday)

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        return cls.of(moment.astimezone(tz).date())

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def starts_at(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 local, in UTC (the bound is inclusive)."""
        return datetime.combine(self.monday, time(0), tz).astimezone(UTC)

    def ends_at(self, tz: ZoneInfo) -> datetime:
        """Sunday 24:00 local = next Monday 00:00, in UTC (the bound is exclusive)."""
        return datetime.combine(self.monday + timedelta(days=7), time(0), tz).astimezone(UTC)

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def previous(self) -> IsoWeek:
        return self.shifted(-1)

    def last(self, count: int) -> list[IsoWeek]:
        """The `count` weeks ending with this one, oldest first (the trend)."""
        return [self.shifted(-i) for i in range(count - 1, -1, -1)]
