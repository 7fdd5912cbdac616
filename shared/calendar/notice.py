"""A year's official notice typed as text: the lists of holidays and make-up working days.

The admin page takes each list as text, one entry a line (or several on a line,
separated by a comma or a semicolon): a date or a range of dates, and an
optional name, as people copy them from the State Council's notice::

    2027-01-01 元旦
    2027-02-06 至 2027-02-12 春节
    2027年2月14日 春节调休

A date is written 2027-02-06, 2027/2/6 or 2027年2月6日; a range joins two with
至, 到, ~ or "..".  ``format_day_list`` writes days back in this form (ranges
of consecutive days with one name), so a loaded year can be corrected in place.

Each parsed day keeps the line it came from, so that an error found later by
``service.load_official_year`` (which names the item's index) can name the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from shared.errors import Invalid

RANGE_MAX_DAYS = 31  # the longest holiday is 8 days; a longer range is a typo
LIST_MAX = 366

_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_ENTRY = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|\.\.)\s*{_DATE})?\s*(.*)$")
_SEPARATORS = re.compile(r"[,，;；、]")


@dataclass(frozen=True)
class NoticeDay:
    day: date
    name: str
    line: int  # 1-based line of the text it came from


def _date(year: str, month: str, day: str) -> date:
    return date(int(year), int(month), int(day))


def parse_day_list(text: str, field: str) -> list[NoticeDay]:
    """The days TEXT lists, in order; Invalid(FIELD, …) naming the line of the first bad entry."""
    days: list[NoticeDay] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for entry in _SEPARATORS.split(raw):
            entry = entry.strip()
            if not entry:
                continue
            match = _ENTRY.match(entry)
            try:
                if match is None or match.group(7)[:1].isdigit():  # two dates in one entry, or a bad one
                    raise ValueError(entry)
                first = _date(*match.group(1, 2, 3))
                last = _date(*match.group(4, 5, 6)) if match.group(4) else first
            except ValueError:
                raise Invalid(field, "calendar_line_invalid", line=number, text=entry[:40]) from None
            if not timedelta(0) <= last - first < timedelta(days=RANGE_MAX_DAYS):
                raise Invalid(field, "calendar_range_invalid", line=number, max=RANGE_MAX_DAYS)
            name = match.group(7).strip()
            days += [NoticeDay(first + timedelta(days=i), name, number) for i in range((last - first).days + 1)]
            if len(days) > LIST_MAX:
                raise Invalid(field, "list_too_long", max=LIST_MAX)
    return days


def _only_weekend_between(first: date, last: date) -> bool:
    return all((first + timedelta(days=i)).weekday() >= 5 for i in range(1, (last - first).days))


def format_day_list(days: Iterable[tuple[date, str]]) -> str:
    """DAYS as text parse_day_list reads back: days with one name as a range, across a weekend between them.

    Only weekday holidays are stored, so 春节 from Friday to the next Friday is
    stored without its weekend; written as one range it reads as the notice did,
    and loading it again stores the same days.
    """
    lines: list[str] = []
    run: list[tuple[date, str]] = []

    def flush() -> None:
        if run:
            (first, name), (last, _name) = run[0], run[-1]
            text = first.isoformat() if first == last else f"{first.isoformat()} 至 {last.isoformat()}"
            lines.append(f"{text} {name}".rstrip())

    for day, name in sorted(days):
        if run and (name != run[-1][1] or not _only_weekend_between(run[-1][0], day)):
            flush()
            run = []
        run.append((day, name))
    flush()
    return "\n".join(lines)
