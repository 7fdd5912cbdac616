"""下一步工作建议: sentences that say what the figures say, for the weekly report and the campaign summary.

Each function looks at one kind of weakness and returns its sentence (or
nothing), so a campaign summary can pick the ones that fit its own figures:
departments below the floors, the items overdue longest, items returned twice,
satisfaction falling, the categories that rose most, enterprises complained
about again and again.  The campaign summary's 五 reuses the ones that do not
speak of one week (the longest overdue).  The sentences name departments, items and numbers —
a leader can forward them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.i18n import message
from shared.reports.model import Figures, Floors, LeagueRow, Level, OverdueItem, Rate, RepeatComplaint, WeeklyReport
from shared.reports.render.common import percent, rate, rate_change, sep, working_days

# A fall in satisfaction smaller than this (in points) is noise for a week of a few dozen callbacks.
SATISFACTION_DROP_POINTS = 1.0
LONGEST_OVERDUE_NAMED = 3
CATEGORIES_NAMED = 2
# A category one case up on last week has not risen; it has varied.
CATEGORY_MIN_RISE = 2


def _rated(rows: Iterable[LeagueRow], lang: str) -> str:
    return sep(lang).join(message("report.suggest.department_rate", lang, department=r.department.name,
                                  rate=rate(r.figures.on_time_feedback_rate)) for r in rows)


def below_floors(rows: Sequence[LeagueRow], floors: Floors, lang: str) -> list[str]:
    """Departments under the red floor, overdue too long, and under the yellow floor: one sentence each."""
    out = []
    red_rate = [r for r in rows if r.figures.on_time_feedback_rate.value is not None
                and r.figures.on_time_feedback_rate.value < floors.red_below]
    if red_rate:
        out.append(message("report.suggest.below_red", lang, departments=_rated(red_rate, lang),
                           floor=percent(floors.red_below)))
    too_long = [r for r in rows if r.max_working_days_overdue > floors.red_overdue_working_days]
    if too_long:
        names = sep(lang).join(message("report.suggest.department_days", lang, department=r.department.name,
                                       days=working_days(r.max_working_days_overdue, lang))
                               for r in sorted(too_long, key=lambda r: -r.max_working_days_overdue))
        out.append(message("report.suggest.overdue_too_long", lang, departments=names,
                           days=working_days(floors.red_overdue_working_days, lang)))
    yellow = [r for r in rows if r.level is Level.YELLOW]
    if yellow:
        out.append(message("report.suggest.below_yellow", lang, departments=_rated(yellow, lang),
                           floor=percent(floors.yellow_below)))
    return out


def longest_overdue(items: Sequence[OverdueItem], lang: str, *, named: int = LONGEST_OVERDUE_NAMED,
                    total: int | None = None) -> list[str]:
    """The count of overdue items (`total` when `items` is a capped list) and the longest overdue, named."""
    if not items:
        return []
    longest = sorted(items, key=lambda i: (-i.working_days_overdue, i.feedback_due_at, i.assignment_id))[:named]
    listed = sep(lang).join(message("report.suggest.overdue_item", lang, reference=i.case_reference, title=i.case_title,
                                    department=i.department.name, days=working_days(i.working_days_overdue, lang))
                            for i in longest)
    return [message("report.suggest.longest_overdue", lang, n=len(items) if total is None else total, items=listed)]


def returned_twice(count: int, lang: str) -> list[str]:
    return [message("report.suggest.returned_twice", lang, n=count)] if count else []


def satisfaction_falling(current: Rate, previous: Rate, lang: str) -> list[str]:
    if current.value is None or previous.value is None:
        return []
    if (previous.value - current.value) * 100 < SATISFACTION_DROP_POINTS:
        return []
    return [message("report.suggest.satisfaction_falling", lang, rate=rate(current),
                    change=rate_change(current, previous, lang).phrase)]


def categories_rising(current: Figures, previous: Figures, lang: str, *, named: int = CATEGORIES_NAMED) -> list[str]:
    rises = sorted(((n - previous.new_cases_by_category.get(c, 0), n, c)
                    for c, n in current.new_cases_by_category.items()), key=lambda x: (-x[0], -x[1], x[2]))
    rises = [x for x in rises if x[0] >= CATEGORY_MIN_RISE][:named]
    if not rises:
        return []
    listed = sep(lang).join(message("report.suggest.category", lang, category=category, n=n, rise=rise)
                            for rise, n, category in rises)
    return [message("report.suggest.categories_rising", lang, categories=listed)]


def repeat_enterprises(complaints: Sequence[RepeatComplaint], lang: str, *, total: int | None = None) -> list[str]:
    """How many enterprises were complained about repeatedly (`total` when the list is capped), the worst named."""
    if not complaints:
        return []
    worst = sorted(complaints, key=lambda r: (-len(r.cases), r.credit_code))
    listed = sep(lang).join(message("report.suggest.enterprise", lang, name=r.enterprise_name, n=len(r.cases))
                            for r in worst[:3])
    n = len(complaints) if total is None else total
    return [message("report.suggest.repeat_complaints", lang, n=n, enterprises=listed)]


def suggestions(report: WeeklyReport, lang: str) -> list[str]:
    """The weekly report's 六、下一步工作建议, most pressing first; a steady week says so."""
    rows = report.league_table
    if report.scope != "all" and report.department is not None:
        # A head's section speaks about its own department, not about the others.
        rows = [r for r in rows if r.department.id == report.department.id]
    out = [
        *below_floors(rows, report.floors, lang),
        *longest_overdue(report.overdue_list, lang),
        *returned_twice(report.figures.returns.returned_twice, lang),
        *satisfaction_falling(report.figures.callbacks.satisfaction_rate,
                              report.previous_week.callbacks.satisfaction_rate, lang),
        *categories_rising(report.figures, report.previous_week, lang),
        *repeat_enterprises(report.repeat_complaints, lang, total=report.repeat_complaint_total),
    ]
    return out or [message("report.suggest.steady", lang)]
