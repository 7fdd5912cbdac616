"""What every artefact of the weekly summary says the same way: rates, changes, weeks, labels.

The HTML email, its text part, the Word file, the Excel workbook and the
suggestions all format through here, so "78.2%", "↓10.5个百分点" and
"2026年第48周（11月23日—11月29日）" read alike wherever a leader sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from shared.i18n import N_, message, normalise_language, plural_message
from shared.reports.levels import reason_text
from shared.reports.model import Figures, Floors, Level, Rate, WeeklyReport
from shared.reports.weeks import IsoWeek
from shared.templating import format_local

DEFAULT_TIMEZONE = "Asia/Shanghai"
DASH = "—"
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

LEVEL_COLOURS = {Level.RED: "#b91c1c", Level.YELLOW: "#b45309", Level.GREEN: "#15803d"}
LEVEL_TINTS = {Level.RED: "#fee2e2", Level.YELLOW: "#fef3c7", Level.GREEN: "#dcfce7"}
_LEVEL_KEYS = {Level.RED: N_("report.level.red"), Level.YELLOW: N_("report.level.yellow"),
               Level.GREEN: N_("report.level.green")}


def sep(lang: str) -> str:
    """What joins names in a list: 、 in Chinese."""
    return "、" if normalise_language(lang) == "zh-CN" else ", "


def percent(value: float | None) -> str:
    """78.2% / 100% / — (nothing to count)."""
    if value is None:
        return DASH
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text}%"


def rate(r: Rate) -> str:
    return percent(r.value)


def yuan(value: Decimal | int) -> str:
    return f"{Decimal(value):,.2f}"


def days(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def working_days(n: int, lang: str) -> str:
    return plural_message("report.working_days.one", "report.working_days", n, normalise_language(lang))


class Direction(Enum):
    UP = 1
    DOWN = -1
    FLAT = 0
    UNKNOWN = None


@dataclass(frozen=True)
class Change:
    """A figure against last week: short text for tables, a phrase for sentences, and whether it is good news."""

    short: str
    phrase: str
    direction: Direction
    # True good news, False bad news, None neither (e.g. more new cases).
    good: bool | None


def _flat(lang: str) -> Change:
    return Change(message("report.change.flat", lang), message("report.change.flat_phrase", lang), Direction.FLAT, None)


def _points(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return round((current - previous) * 100, 1)


def points(current: Rate, previous: Rate) -> str:
    """The change in percentage points, compact for a narrow column: ↑0.9 / ↓14.3 / 0 / —."""
    pts = _points(current.value, previous.value)
    if pts is None:
        return DASH
    if pts == 0:
        return "0"
    return ("↑" if pts > 0 else "↓") + f"{abs(pts):.1f}".removesuffix(".0")


def rate_change(current: Rate, previous: Rate, lang: str, *, higher_is_better: bool = True) -> Change:
    """In percentage points: ↑2.1个百分点 / 较上周上升2.1个百分点."""
    pts = _points(current.value, previous.value)
    if pts is None:
        return Change(DASH, message("report.change.no_comparison", lang), Direction.UNKNOWN, None)
    if pts == 0:
        return _flat(lang)
    n = f"{abs(pts):.1f}".removesuffix(".0")
    if pts > 0:
        return Change(message("report.change.pts_up", lang, n=n), message("report.change.pts_up_phrase", lang, n=n),
                      Direction.UP, higher_is_better)
    return Change(message("report.change.pts_down", lang, n=n), message("report.change.pts_down_phrase", lang, n=n),
                  Direction.DOWN, not higher_is_better)


def count_change(current: int | float | Decimal, previous: int | float | Decimal, lang: str, *,
                 higher_is_better: bool | None = None, fmt: Callable[[object], str] = str) -> Change:
    """+3 / 较上周增加3."""
    delta = current - previous  # type: ignore[operator]
    if delta == 0:
        return _flat(lang)
    n = fmt(abs(delta))
    if delta > 0:
        return Change(f"+{n}", message("report.change.up_phrase", lang, n=n), Direction.UP, higher_is_better)
    good = None if higher_is_better is None else not higher_is_better
    return Change(f"−{n}", message("report.change.down_phrase", lang, n=n), Direction.DOWN, good)


def day_text(day: date, lang: str, *, with_year: bool = True) -> str:
    if normalise_language(lang) == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日" if with_year else f"{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month]} {day.year}" if with_year else f"{day.day} {_MONTHS[day.month]}"


def week_title(week: str, lang: str) -> str:
    """2026年第48周（11月23日—11月29日） / Week 48, 2026 (23 Nov – 29 Nov)."""
    w = IsoWeek.parse(week)
    same_year = w.monday.year == w.sunday.year == w.year
    start = day_text(w.monday, lang, with_year=not same_year)
    end = day_text(w.sunday, lang, with_year=not same_year)
    return message("report.week_title", lang, year=w.year, week=w.week, start=start, end=end)


def week_short(week: str, lang: str) -> str:
    """第48周 / W48, for the trend's rows."""
    w = IsoWeek.parse(week)
    return message("report.week_short", lang, year=w.year, week=w.week)


def local_time(value: datetime, lang: str, tz: str | ZoneInfo = DEFAULT_TIMEZONE) -> str:
    return format_local(value, normalise_language(lang), tz)


def local_naive(value: datetime, tz: str | ZoneInfo = DEFAULT_TIMEZONE) -> datetime:
    """Local wall time without a zone: what a spreadsheet cell can hold."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return value.astimezone(zone).replace(tzinfo=None)


def level_label(level: Level, lang: str) -> str:
    return message(_LEVEL_KEYS[level], lang)


def level_reasons(reasons: list[str], floors: Floors, lang: str) -> str:
    """Why a department is not green, in words: 按时反馈率低于80%；有事项超期超过3个工作日."""
    return message("report.reason_sep", lang).join(reason_text(r, floors, lang) for r in reasons)


def report_title(report: WeeklyReport, lang: str) -> str:
    """The document's title: 执法协作情况周报, a head's section naming the department."""
    if report.department is not None and report.scope != "all":
        return message("report.title.department", lang, department=report.department.name)
    return message("report.title", lang)


def scope_note(report: WeeklyReport, lang: str, tz: str | ZoneInfo = DEFAULT_TIMEZONE) -> str | None:
    """Said under the title when the week is still running."""
    if report.complete:
        return None
    return message("report.so_far", lang, at=local_time(report.generated_at, lang, tz))


class Kind(Enum):
    COUNT = "count"
    RATE = "rate"
    DAYS = "days"
    YUAN = "yuan"


@dataclass(frozen=True)
class FigureLine:
    """One figure of the summary, as every artefact lists it."""

    key: str
    kind: Kind
    get: Callable[[Figures], object]
    # None: neither direction is good news (new cases).
    higher_is_better: bool | None = None


FIGURE_LINES: tuple[FigureLine, ...] = (
    FigureLine(N_("report.fig.new_cases"), Kind.COUNT, lambda f: f.new_cases),
    FigureLine(N_("report.fig.closed_cases"), Kind.COUNT, lambda f: f.closed_cases, True),
    FigureLine(N_("report.fig.assignments_due"), Kind.COUNT, lambda f: f.assignments_due),
    FigureLine(N_("report.fig.on_time"), Kind.COUNT, lambda f: f.on_time, True),
    FigureLine(N_("report.fig.on_time_by_extension"), Kind.COUNT, lambda f: f.on_time_by_extension),
    FigureLine(N_("report.fig.on_time_feedback_rate"), Kind.RATE, lambda f: f.on_time_feedback_rate, True),
    FigureLine(N_("report.fig.overdue_open"), Kind.COUNT, lambda f: f.overdue_open, False),
    FigureLine(N_("report.fig.feedback_latency_median"), Kind.DAYS,
               lambda f: f.feedback_latency.median_working_days, False),
    FigureLine(N_("report.fig.feedback_latency_mean"), Kind.DAYS,
               lambda f: f.feedback_latency.mean_working_days, False),
    FigureLine(N_("report.fig.acceptance_due"), Kind.COUNT, lambda f: f.acceptance_due),
    FigureLine(N_("report.fig.accepted_on_time"), Kind.COUNT, lambda f: f.accepted_on_time, True),
    FigureLine(N_("report.fig.on_time_acceptance_rate"), Kind.RATE, lambda f: f.on_time_acceptance_rate, True),
    FigureLine(N_("report.fig.acceptance_latency_mean"), Kind.DAYS,
               lambda f: f.acceptance_latency.mean_working_days, False),
    FigureLine(N_("report.fig.dispatches"), Kind.COUNT, lambda f: f.returns.dispatches),
    FigureLine(N_("report.fig.returns"), Kind.COUNT, lambda f: f.returns.returns, False),
    FigureLine(N_("report.fig.return_rate"), Kind.RATE, lambda f: f.returns.return_rate, False),
    FigureLine(N_("report.fig.returned_twice"), Kind.COUNT, lambda f: f.returns.returned_twice, False),
    FigureLine(N_("report.fig.callbacks_made"), Kind.COUNT, lambda f: f.callbacks.made),
    FigureLine(N_("report.fig.callbacks_reached"), Kind.COUNT, lambda f: f.callbacks.reached),
    FigureLine(N_("report.fig.satisfaction_rate"), Kind.RATE, lambda f: f.callbacks.satisfaction_rate, True),
    FigureLine(N_("report.fig.resolution_rate"), Kind.RATE, lambda f: f.callbacks.resolution_rate, True),
    FigureLine(N_("report.fig.inspections_held"), Kind.COUNT, lambda f: f.inspections_held),
    FigureLine(N_("page.outcome.enterprises_inspected"), Kind.COUNT, lambda f: f.outcomes.enterprises_inspected),
    FigureLine(N_("page.outcome.problems_found"), Kind.COUNT, lambda f: f.outcomes.problems_found),
    FigureLine(N_("page.outcome.rectification_orders"), Kind.COUNT, lambda f: f.outcomes.rectification_orders),
    FigureLine(N_("page.outcome.cases_filed"), Kind.COUNT, lambda f: f.outcomes.cases_filed),
    FigureLine(N_("page.outcome.fines_yuan"), Kind.YUAN, lambda f: f.outcomes.fines_yuan),
    FigureLine(N_("page.outcome.complaints_mediated"), Kind.COUNT, lambda f: f.outcomes.complaints_mediated),
    FigureLine(N_("page.outcome.losses_recovered_yuan"), Kind.YUAN, lambda f: f.outcomes.losses_recovered_yuan),
)


def figure_text(line: FigureLine, figures: Figures) -> str:
    value = line.get(figures)
    if line.kind is Kind.RATE:
        assert isinstance(value, Rate)
        return rate(value)
    if line.kind is Kind.DAYS:
        return days(value)  # type: ignore[arg-type]
    if line.kind is Kind.YUAN:
        return yuan(value)  # type: ignore[arg-type]
    return str(value)


def figure_change(line: FigureLine, current: Figures, previous: Figures, lang: str) -> Change:
    now, before = line.get(current), line.get(previous)
    if line.kind is Kind.RATE:
        assert isinstance(now, Rate) and isinstance(before, Rate)
        return rate_change(now, before, lang, higher_is_better=line.higher_is_better is not False)
    if now is None or before is None:
        return Change(DASH, message("report.change.no_comparison", lang), Direction.UNKNOWN, None)
    fmt: Callable[[object], str] = (lambda v: yuan(v)) if line.kind is Kind.YUAN else (  # type: ignore[arg-type]
        (lambda v: f"{v:.1f}") if line.kind is Kind.DAYS else str)
    return count_change(now, before, lang, higher_is_better=line.higher_is_better, fmt=fmt)  # type: ignore[arg-type]


def outcome_text(fines: Decimal, recovered: Decimal, filed: int, lang: str) -> str:
    """罚没款80,000.00元，立案1件: what a feedback achieved, leaving out what it did not."""
    parts = []
    if fines:
        parts.append(message("report.outcome.fines", lang, v=yuan(fines)))
    if recovered:
        parts.append(message("report.outcome.recovered", lang, v=yuan(recovered)))
    if filed:
        parts.append(message("report.outcome.filed", lang, n=filed))
    return message("report.list_sep", lang).join(parts)


def in_parens(text: str, lang: str) -> str:
    return message("report.in_parens", lang, text=text)


def assignee(name: str | None, lang: str) -> str:
    return name or message("report.no_assignee", lang)
