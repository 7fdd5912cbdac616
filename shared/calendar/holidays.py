"""Where holiday dates come from, without any I/O: the package, and the statutory rules.

Two sources, in order of trust:

* the `chinese-calendar` package carries the State Council's official schedules
  (holidays *and* make-up working days, 调休) for the years it covers — 2004 to
  2026 in 1.11.  Asking it about any other year raises, so it is only ever asked
  about a year inside `package_years()`;
* for any other year, the statutory holidays whose dates are known in advance
  (《全国年节及纪念日放假办法》 as amended for 2025): New Year's Day (Jan 1),
  Spring Festival (除夕 and 正月初一 to 初三), Qingming (the solar term),
  Labour Day (May 1–2), Dragon Boat (五月初五), Mid-Autumn (八月十五) and
  National Day (Oct 1–3).  Make-up working days are announced, not computed, so
  they are never guessed.

Lunar dates and the Qingming solar term come from `lunar-python`; for 1901–2099
its dates were checked against `lunardate` (identical except Mid-Autumn 1978, a
known table discrepancy) and its Qingming against chinese-calendar's formula
(identical).  Should it fail for an odd year, only the fixed-date holidays are
used: computing a deadline never fails.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from importlib import metadata

# A special day: (is_working, name).  Only days that differ from the Mon–Fri rule.
SpecialDays = dict[date, tuple[bool, str]]

NEW_YEAR = "元旦"
SPRING_FESTIVAL = "春节"
QINGMING = "清明节"
LABOUR_DAY = "劳动节"
DRAGON_BOAT = "端午节"
MID_AUTUMN = "中秋节"
NATIONAL_DAY = "国庆节"
MAKE_UP_SUFFIX = "调休"

# Years where lunar-python's results are verified and the Gregorian calendar applies.
_LUNAR_YEARS = range(1901, 2100)


def package_version() -> str:
    try:
        return metadata.version("chinese-calendar")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a declared dependency
        return "unknown"


def package_source() -> str:
    """The `calendar_year.source` written for years seeded from the package."""
    return f"chinese-calendar {package_version()}"


@lru_cache(maxsize=1)
def package_years() -> range:
    """The years the installed chinese-calendar package has official data for."""
    try:
        from chinese_calendar.constants import holidays, workdays
    except Exception:  # noqa: BLE001 - a broken package must not break deadlines
        return range(0)
    years = {d.year for d in holidays} | {d.year for d in workdays}
    return range(min(years), max(years) + 1) if years else range(0)


def _chinese_name(value: str) -> str:
    from chinese_calendar.constants import Holiday

    try:
        return str(Holiday(value).chinese)
    except ValueError:
        return value[:64]


@lru_cache(maxsize=64)
def package_special_days(year: int) -> SpecialDays | None:
    """The official schedule of `year` from the package, or None if it does not cover it."""
    if year not in package_years():
        return None
    from chinese_calendar.constants import holidays, workdays

    days: SpecialDays = {}
    for day, value in holidays.items():
        if day.year == year and day.weekday() < 5:
            days[day] = (False, _chinese_name(value))
    for day, value in workdays.items():
        if day.year == year and day.weekday() >= 5:
            days[day] = (True, _chinese_name(value) + MAKE_UP_SUFFIX)
    return dict(sorted(days.items()))


def _lunar_to_solar(year: int, month: int, day: int) -> date:
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[date, str]:
    """Every statutory holiday date of `year` known in advance (weekends included)."""
    days: dict[date, str] = {}
    try:
        days[date(year, 1, 1)] = NEW_YEAR
        days[date(year, 5, 1)] = days[date(year, 5, 2)] = LABOUR_DAY
        for d in (1, 2, 3):
            days[date(year, 10, d)] = NATIONAL_DAY
    except ValueError:  # year outside what `date` can hold
        return {}
    if year in _LUNAR_YEARS:
        try:
            new_year = _lunar_to_solar(year, 1, 1)
            lunar_days = {
                new_year - timedelta(days=1): SPRING_FESTIVAL,  # 除夕, whether 腊月廿九 or 三十
                new_year: SPRING_FESTIVAL,
                new_year + timedelta(days=1): SPRING_FESTIVAL,
                new_year + timedelta(days=2): SPRING_FESTIVAL,
                _qingming(year): QINGMING,
                _lunar_to_solar(year, 5, 5): DRAGON_BOAT,
                _lunar_to_solar(year, 8, 15): MID_AUTUMN,
            }
        except Exception:  # noqa: BLE001 - fall back to the fixed-date holidays
            lunar_days = {}
        # Mid-Autumn can fall on Oct 1–3; National Day keeps the name then.
        for day, name in lunar_days.items():
            if day.year == year:
                days.setdefault(day, name)
    return dict(sorted(days.items()))


def provisional_special_days(year: int) -> SpecialDays:
    """Weekday statutory holidays of a year without an official schedule; no make-up days."""
    return {day: (False, name) for day, name in statutory_holidays(year).items() if day.weekday() < 5}
