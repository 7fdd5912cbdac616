"""Working days (工作日) in SQL, for the weekly figures: no Python per row.

The working calendar lives in Python (`shared.calendar.rules.WorkingCalendar`:
official schedules from the database, the `chinese-calendar` package, or
provisional years such as 2027+).  For one report we expand it, once, into a
small table of local dates with a cumulative working-day ordinal, sent to the
database as a `VALUES` common table expression (one row per calendar day of
the range, a few hundred to a few thousand rows):

    working_day(day_number, ordinal)   ordinal(d) = working days in [range start, d]

so the working days between two instants are one subtraction in SQL:

    ordinal(local date of b) - ordinal(local date of a)
        = working days d with local_date(a) < d <= local_date(b)

which is exactly `WorkingCalendar.working_days_between`.  A date outside the
range is clamped to its nearest end, so no row ever drops out of a join.

Local dates in SQL: a day number (days since 1970-01-01) of the instant
shifted by the zone's UTC offset.  The offset is fixed: Asia/Shanghai has been
UTC+08:00 all year round since 1991 (no daylight saving time), which a
zone-name conversion would only make slower and dialect-specific.
SQLite: strftime('%s') of the stored UTC text's whole seconds; PostgreSQL: EXTRACT(EPOCH).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, case, cast, func, literal, values
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import column as sql_column
from sqlalchemy.sql.selectable import CTE

from shared.calendar.rules import WorkingCalendar

EPOCH = date(1970, 1, 1)
ONE_DAY = timedelta(days=1)
SECONDS_PER_DAY = 86400


def day_number(day: date) -> int:
    return (day - EPOCH).days


def local_day_sql(dialect: str, column: Any, offset_seconds: int) -> ColumnElement[int]:
    """The local date of a stored UTC instant, as a day number (for instants after 1970)."""
    if dialect == "sqlite":
        # Whole seconds only: SQLite's date functions round to milliseconds, which would carry
        # 23:59:59.9999 into the next day.
        seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
        return (seconds + offset_seconds) // SECONDS_PER_DAY
    if dialect == "postgresql":
        days = func.floor((func.extract("epoch", column) + offset_seconds) / SECONDS_PER_DAY)
        return cast(days, Integer)
    # The app runs on these two only (shared/db.py); any other database is a setup error.
    raise ValueError(f"working days in SQL: unsupported database {dialect!r} (SQLite or PostgreSQL)")


class WorkingDays:
    """The working-day ordinal of every local date in [first, last], in Python and as a CTE."""

    def __init__(self, calendar: WorkingCalendar, dialect: str, first: date, last: date,
                 *, offset_seconds: int, name: str = "working_day") -> None:
        if last < first:
            last = first
        self.calendar = calendar
        self.dialect = dialect
        self.offset_seconds = offset_seconds
        self.first, self.last = first, last
        self._ordinals: dict[date, int] = {}
        rows: list[tuple[int, int]] = []
        ordinal, day = 0, first
        while day <= last:
            if calendar.is_working_day(day):
                ordinal += 1
            self._ordinals[day] = ordinal
            rows.append((day_number(day), ordinal))
            day += ONE_DAY
        # Literal integers (our own, not input): no bound-parameter limit, one statement text.
        self.cte: CTE = values(sql_column("day_number", Integer), sql_column("ordinal", Integer),
                               name=name, literal_binds=True).data(rows).cte(name)

    @classmethod
    def offset_of(cls, calendar: WorkingCalendar, at: datetime) -> int:
        offset = at.astimezone(calendar.tz).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def ordinal(self, day: date) -> int:
        """The ordinal of a local date (clamped to the range, as in SQL)."""
        day = min(max(day, self.first), self.last)
        return self._ordinals[day]

    def local_day(self, column: Any) -> ColumnElement[int]:
        """The local day number of `column`, clamped to the range so the join always finds it."""
        raw = local_day_sql(self.dialect, column, self.offset_seconds)
        lo, hi = day_number(self.first), day_number(self.last)
        return case((raw < lo, literal(lo)), (raw > hi, literal(hi)), else_=raw)

    def alias(self, name: str) -> Any:
        return self.cte.alias(name)
