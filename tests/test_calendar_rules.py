"""Working days without a database: the 2026 schedule, provisional years, the invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from shared.calendar import holidays
from shared.calendar.rules import WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def cob(y: int, m: int, d: int) -> datetime:
    """17:30 Shanghai as aware UTC — what a deadline looks like when stored."""
    return datetime(y, m, d, 17, 30, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(tz=SHANGHAI, close_of_business=time(17, 30))


# ------------------------------------------------------------ the 2026 schedule


def test_spring_festival_2026_is_off_with_two_make_up_saturdays(cal: WorkingCalendar) -> None:
    for offset in range(9):
        assert not cal.is_working_day(date(2026, 2, 15) + timedelta(days=offset))
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 春节调休
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, 春节调休
    assert cal.is_working_day(date(2026, 2, 13)) and cal.is_working_day(date(2026, 2, 24))
    assert not cal.is_provisional_year(2026)


def test_mid_autumn_and_national_day_2026(cal: WorkingCalendar) -> None:
    # 国办发明电〔2025〕7号: 中秋 9/25–27, 国庆 10/1–7; Sunday 9/20 and Saturday 10/10 are working days.
    assert [cal.is_working_day(date(2026, 9, d)) for d in (25, 26, 27)] == [False, False, False]
    assert all(not cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert cal.is_working_day(date(2026, 9, 20))
    assert cal.is_working_day(date(2026, 10, 10))
    assert cal.is_working_day(date(2026, 10, 8))
    assert not cal.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_five_working_days_from_thursday_before_spring_festival(cal: WorkingCalendar) -> None:
    # Thu 2/12 dispatch: Fri 2/13 (1), Sat 2/14 make-up (2), 2/15–2/23 off,
    # Tue 2/24 (3), Wed (4), Thu 2/26 (5).
    deadline = cal.add_working_days(local(2026, 2, 12), 5)
    assert deadline.at == cob(2026, 2, 26)
    assert deadline.at.tzinfo is UTC
    assert not deadline.provisional


def test_deadlines_across_national_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(local(2026, 9, 30), 1).at == cob(2026, 10, 8)
    assert cal.add_working_days(local(2026, 9, 30), 3).at == cob(2026, 10, 10)  # the make-up Saturday
    assert cal.add_working_days(local(2026, 9, 18), 1).at == cob(2026, 9, 20)  # the make-up Sunday
    assert cal.add_working_days(local(2026, 9, 24), 1).at == cob(2026, 9, 28)  # over 中秋


def test_zero_days_is_close_of_business_of_the_start_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(local(2026, 2, 12), 0).at == cob(2026, 2, 12)
    assert cal.add_working_days(local(2026, 2, 12), -3).at == cob(2026, 2, 12)


def test_the_local_date_decides_not_the_utc_date(cal: WorkingCalendar) -> None:
    # 2026-02-12 20:00 UTC is already Friday 04:00 in Shanghai.
    late = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
    assert cal.local_date(late) == date(2026, 2, 13)
    assert cal.add_working_days(late, 1).at == cob(2026, 2, 14)
    # SQLite hands back naive UTC; it is read as UTC.
    assert cal.local_date(datetime(2026, 2, 12, 20, 0)) == date(2026, 2, 13)


def test_close_of_business_is_configurable() -> None:
    cal = WorkingCalendar(tz=SHANGHAI, close_of_business=time(18, 0))
    assert cal.add_working_days(local(2026, 3, 2), 1).at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_working_days_between(cal: WorkingCalendar) -> None:
    start = local(2026, 2, 12)
    assert cal.working_days_between(start, local(2026, 2, 26, 18)) == 5
    assert cal.working_days_between(start, local(2026, 2, 12, 23)) == 0  # same local day
    assert cal.working_days_between(start, start - timedelta(days=3)) == 0
    assert cal.working_days_between(local(2026, 9, 30), local(2026, 10, 10)) == 3


def test_2026_has_the_official_number_of_working_days(cal: WorkingCalendar) -> None:
    # 2026: 261 weekdays, 19 weekday holidays, 6 make-up weekend days → 248 working days.
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert sum(cal.is_working_day(d) for d in days) == 248
    # The days after 2025-12-31 up to 2026-12-31: all of 2026.
    assert cal.working_days_between(local(2025, 12, 31), local(2026, 12, 31)) == 248


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_between_inverts_add(cal: WorkingCalendar, year: int) -> None:
    for month in range(1, 13):
        start = local(year, month, 3, 9)
        for n in (0, 1, 2, 5, 7, 10, 15, 30):
            due = cal.add_working_days(start, n)
            assert cal.working_days_between(start, due.at) == n, (start, n)
            assert cal.is_working_day(cal.local_date(due.at)) or n == 0


def test_between_matches_counting_day_by_day(cal: WorkingCalendar) -> None:
    first = date(2026, 12, 20)
    for span in range(0, 60, 3):
        last = first + timedelta(days=span)
        expected = sum(cal.is_working_day(first + timedelta(days=i)) for i in range(1, span + 1))
        end = local(last.year, last.month, last.day)
        assert cal.working_days_between(local(2026, 12, 20), end) == expected


# ------------------------------------------------------------ provisional years


def test_chinese_calendar_package_stops_at_2026_and_raises_beyond() -> None:
    """The pitfall this module exists for: never ask the package about 2027."""
    assert holidays.package_years() == range(2004, 2027)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    assert holidays.package_special_days(2027) is None


def test_deadline_running_into_2027_is_provisional_and_skips_new_year(cal: WorkingCalendar) -> None:
    # Thu 12/24: 12/25, 28, 29, 30, 31 (5), Jan 1 off, Jan 4–8 (10).
    deadline = cal.add_working_days(local(2026, 12, 24), 10)
    assert deadline.at == cob(2027, 1, 8)
    assert deadline.provisional
    assert cal.is_provisional_year(2027)
    assert not cal.add_working_days(local(2026, 12, 1), 5).provisional
    assert cal.add_working_days(local(2027, 3, 1), 0).provisional


def test_provisional_2027_uses_statutory_holidays_only(cal: WorkingCalendar) -> None:
    # 春节 2027: 正月初一 is Sat 2/6, so 除夕 Fri 2/5 and 初三 Mon 2/8 are the weekday holidays.
    expected_off = [date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5),
                    date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1)]
    for day in expected_off:
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(date(2027, 2, 9))  # 初四: statutory days only, nothing guessed
    assert cal.is_working_day(date(2027, 10, 4))  # Monday after National Day's three days
    assert not cal.is_working_day(date(2027, 2, 6))  # a Saturday stays a weekend: no make-up guessed
    assert cal.is_working_day(date(2027, 5, 3))
    names = holidays.statutory_holidays(2027)
    assert names[date(2027, 2, 5)] == "春节" and names[date(2027, 9, 15)] == "中秋节"
    assert names[date(2027, 4, 5)] == "清明节" and names[date(2027, 6, 9)] == "端午节"


def test_statutory_rules_agree_with_the_package_where_it_has_data() -> None:
    """The lunar library and the solar term against twenty years of official schedules."""
    for year in range(2008, 2027):  # 清明/端午/中秋 are holidays since 2008
        statutory = holidays.statutory_holidays(year)
        chuxi = min(day for day, name in statutory.items() if name == "春节")
        assert len([name for name in statutory.values() if name == "春节"]) == 4
        for day, name in statutory.items():
            if day in (chuxi, date(year, 5, 2)) and year < 2025:
                continue  # 除夕 and May 2 became statutory in 2025
            assert not chinese_calendar.is_workday(day), (year, day, name)


def test_mid_autumn_on_national_day_keeps_one_entry() -> None:
    # 2020: 中秋 fell on Oct 1.
    days = holidays.statutory_holidays(2020)
    assert days[date(2020, 10, 1)] == "国庆节"


@pytest.mark.parametrize("year", [1, 1000, 1899, 2100, 2200, 3000, 9998])
def test_any_year_computes_and_never_raises(cal: WorkingCalendar, year: int) -> None:
    deadline = cal.add_working_days(datetime(year, 6, 1, 2, tzinfo=UTC), 10)
    assert deadline.provisional
    assert deadline.at > datetime(year, 6, 1, tzinfo=UTC)
    assert cal.working_days_between(datetime(year, 6, 1, tzinfo=UTC), deadline.at) == 10


def test_the_end_of_time_does_not_raise(cal: WorkingCalendar) -> None:
    deadline = cal.add_working_days(datetime(9999, 12, 29, 2, tzinfo=UTC), 30)
    assert cal.local_date(deadline.at) == date(9999, 12, 31)


# ------------------------------------------------------------ loaded schedules


def test_a_loaded_schedule_wins_over_package_and_rules() -> None:
    cal = WorkingCalendar(
        tz=SHANGHAI, close_of_business=time(17, 30),
        official={2026: {}, 2027: {date(2027, 2, 9): False, date(2027, 2, 20): True}},
    )
    assert cal.is_working_day(date(2026, 2, 16))  # 2026 was replaced with an empty schedule
    assert not cal.is_working_day(date(2027, 2, 9))
    assert cal.is_working_day(date(2027, 2, 20))
    assert cal.is_working_day(date(2027, 2, 5))  # the loaded schedule does not list it
    assert not cal.is_provisional_year(2027)
    assert not cal.add_working_days(local(2026, 12, 24), 10).provisional


def test_a_schedule_without_working_days_cannot_hang() -> None:
    everything_off = {date(2030, 1, 1) + timedelta(days=i): False for i in range(365)}
    cal = WorkingCalendar(tz=SHANGHAI, close_of_business=time(17, 30), official={2030: everything_off})
    deadline = cal.add_working_days(local(2029, 12, 31), 3)
    assert deadline.at > cob(2029, 12, 31)
