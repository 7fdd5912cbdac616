"""Working-day arithmetic (工作日), pure: no database, no clock.

A `WorkingCalendar` answers "is this a working day?" year by year, from the
best source it has for that year:

1. an official schedule loaded into the database (`official`, by year);
2. else the `chinese-calendar` package, for the years it covers (so a fresh
   database that was never seeded still counts 2026 correctly);
3. else weekends plus the statutory holidays known in advance — such a year is
   *provisional*, and so is every deadline that counts a day in it.

A day not listed for its year follows the Mon–Fri rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.calendar import holidays

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware UTC
    provisional: bool  # a counted day falls in a year without an official schedule


def weekly_rule(day: date) -> bool:
    """Mon–Fri work, Sat–Sun rest."""
    return day.weekday() < 5


def differs_from_weekly_rule(day: date, is_working: bool) -> bool:
    return is_working != weekly_rule(day)


def _weekdays_through(day: date) -> int:
    """Mon–Fri days from 0001-01-01 (a Monday) up to and including `day`."""
    n = day.toordinal()
    return (n // 7) * 5 + min(n % 7, 5)


class WorkingCalendar:
    def __init__(
        self,
        *,
        tz: ZoneInfo,
        close_of_business: time,
        official: Mapping[int, Mapping[date, bool]] | None = None,
        use_package: bool = True,
    ) -> None:
        self.tz = tz
        self.close_of_business = close_of_business
        self._official = {year: dict(days) for year, days in (official or {}).items()}
        self._use_package = use_package
        self._years: dict[int, tuple[dict[date, bool], bool]] = {}

    # -- per-year data ------------------------------------------------------

    def _year(self, year: int) -> tuple[dict[date, bool], bool]:
        """(days differing from Mon–Fri, provisional?) for `year`, cached."""
        cached = self._years.get(year)
        if cached is None:
            package = holidays.package_special_days(year) if self._use_package else None
            if year in self._official:
                cached = (self._official[year], False)
            elif package is not None:
                cached = ({day: working for day, (working, _name) in package.items()}, False)
            else:
                provisional = holidays.provisional_special_days(year)
                cached = ({day: working for day, (working, _name) in provisional.items()}, True)
            self._years[year] = cached
        return cached

    def is_provisional_year(self, year: int) -> bool:
        return self._year(year)[1]

    def is_working_day(self, day: date) -> bool:
        special = self._year(day.year)[0].get(day)
        return weekly_rule(day) if special is None else special

    # -- time zone ----------------------------------------------------------

    def local_date(self, at: datetime) -> date:
        if at.tzinfo is None:  # what SQLite hands back is UTC
            at = at.replace(tzinfo=UTC)
        return at.astimezone(self.tz).date()

    def close_of_business_on(self, day: date) -> datetime:
        return datetime.combine(day, self.close_of_business, tzinfo=self.tz).astimezone(UTC)

    # -- arithmetic ---------------------------------------------------------

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """Close of business of the `days`-th working day after start's local date.

        days=0 (or less) is close of business of start's local day.  Never raises
        for any year: a year without an official schedule only makes it provisional.
        """
        day = self.local_date(start)
        remaining = max(days, 0)
        provisional = self.is_provisional_year(day.year) if remaining == 0 else False
        # A (malformed) schedule with no working days at all must not loop forever.
        limit = remaining * 7 + 400
        walked = 0
        while remaining > 0 and walked < limit:
            try:
                day += ONE_DAY
            except OverflowError:
                break
            walked += 1
            provisional = provisional or self.is_provisional_year(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return Deadline(at=self.close_of_business_on(day), provisional=provisional)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days d with local_date(start) < d <= local_date(end); 0 if end <= start."""
        if end <= start:
            return 0
        first, last = self.local_date(start), self.local_date(end)
        if last <= first:
            return 0
        count = _weekdays_through(last) - _weekdays_through(first)
        for year in range(first.year, last.year + 1):
            for day, working in self._year(year)[0].items():
                if first < day <= last and differs_from_weekly_rule(day, working):
                    count += 1 if working else -1
        return count
