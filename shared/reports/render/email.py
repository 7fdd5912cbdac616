"""The weekly summary as an email: exceptions first, then the league table, trends, highlights, repeat complaints.

Everything the templates (`templates/reports/`) show is prepared here as plain
strings, so the HTML and text parts say the same thing.  The charts are tables
of coloured cells with pixel widths and inline styles — no script, no image, no
stylesheet — because that is what Outlook, Foxmail and webmail all draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from shared.i18n import normalise_language
from shared.reports.model import Figures, LeagueRow, Level, WeeklyReport
from shared.reports.render import common as c
from shared.templating import render

# The overdue list in an email stops here; the page and the Excel file have them all.
OVERDUE_SHOWN = 20
BAR_PX = 80
TREND_BAR_PX = 150
_GOOD, _BAD, _NEUTRAL = "#15803d", "#b91c1c", "#6b7280"
# The figures an email's table lists (the Word and Excel files list all of them).
_EMAIL_FIGURES = (
    "report.fig.new_cases", "report.fig.closed_cases", "report.fig.assignments_due", "report.fig.on_time",
    "report.fig.on_time_by_extension", "report.fig.on_time_feedback_rate", "report.fig.overdue_open",
    "report.fig.feedback_latency_median", "report.fig.on_time_acceptance_rate", "report.fig.returns",
    "report.fig.return_rate", "report.fig.returned_twice", "report.fig.callbacks_reached",
    "report.fig.satisfaction_rate", "report.fig.resolution_rate", "report.fig.inspections_held",
    "page.outcome.cases_filed", "page.outcome.fines_yuan", "page.outcome.losses_recovered_yuan",
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def _change_colour(change: c.Change) -> str:
    return _NEUTRAL if change.good is None else (_GOOD if change.good else _BAD)


def _rate_colour(value: float | None, report: WeeklyReport) -> str:
    if value is None:
        return _NEUTRAL
    if value < report.floors.red_below:
        return c.LEVEL_COLOURS[Level.RED]
    if value < report.floors.yellow_below:
        return c.LEVEL_COLOURS[Level.YELLOW]
    return c.LEVEL_COLOURS[Level.GREEN]


def _bar(value: float | None, width: int) -> dict[str, int]:
    filled = 0 if value is None else round(max(0.0, min(1.0, value)) * width)
    return {"on": filled, "off": width - filled}


class _Urls:
    def __init__(self, base_url: str, week: str) -> None:
        self.base = base_url.rstrip("/")
        self.week = week

    def report(self) -> str:
        return f"{self.base}/reports/{self.week}"

    def case(self, case_id: int) -> str:
        return f"{self.base}/cases/{case_id}"

    def assignment(self, assignment_id: int) -> str:
        return f"{self.base}/assignments/{assignment_id}"

    def overdue_of(self, department_id: int) -> str:
        return f"{self.base}/queue?{urlencode({'department_id': department_id, 'bucket': 'overdue'})}"


def _headline(report: WeeklyReport, lang: str) -> str:
    f, p = report.figures, report.previous_week
    red = sum(1 for r in report.league_table if r.level is Level.RED)
    if f.on_time_feedback_rate.value is None:
        return c.message("report.email.headline_nothing_due", lang, overdue=f.overdue_open, red=red)
    return c.message("report.email.headline", lang, rate=c.rate(f.on_time_feedback_rate),
                     change=c.rate_change(f.on_time_feedback_rate, p.on_time_feedback_rate, lang).phrase,
                     due=f.assignments_due, overdue=f.overdue_open, red=red)


def _exceptions(report: WeeklyReport, lang: str, urls: _Urls) -> list[dict[str, Any]]:
    rows = [r for r in report.league_table if r.level is not Level.GREEN]
    if report.scope != "all" and report.department is not None:
        rows = [r for r in rows if r.department.id == report.department.id]
    rows.sort(key=lambda r: (r.level is not Level.RED, r.figures.on_time_feedback_rate.value or 0.0))
    return [{
        "department": r.department.name, "level": c.level_label(r.level, lang),
        "colour": c.LEVEL_COLOURS[r.level], "tint": c.LEVEL_TINTS[r.level],
        "reasons": c.level_reasons(r.level_reasons, report.floors, lang),
        "detail": c.message("report.email.exception_detail", lang, rate=c.rate(r.figures.on_time_feedback_rate),
                            on_time=r.figures.on_time, due=r.figures.assignments_due, overdue=r.figures.overdue_open,
                            days=c.working_days(r.max_working_days_overdue, lang)),
        "url": urls.overdue_of(r.department.id),
    } for r in rows]


def _overdue(report: WeeklyReport, lang: str, urls: _Urls, tz: ZoneInfo) -> list[dict[str, Any]]:
    items = sorted(report.overdue_list, key=lambda i: (-i.working_days_overdue, i.feedback_due_at, i.assignment_id))
    limit = report.floors.red_overdue_working_days
    return [{
        "days": c.working_days(i.working_days_overdue, lang), "n": i.working_days_overdue,
        "colour": c.LEVEL_COLOURS[Level.RED] if i.working_days_overdue > limit else c.LEVEL_COLOURS[Level.YELLOW],
        "reference": i.case_reference, "title": i.case_title, "case_url": urls.case(i.case_id),
        "assignment_url": urls.assignment(i.assignment_id), "department": i.department.name,
        "assignee": c.assignee(i.assignee_name, lang), "due": c.local_time(i.feedback_due_at, lang, tz),
    } for i in items[:OVERDUE_SHOWN]]


def _league(report: WeeklyReport, lang: str, urls: _Urls) -> list[dict[str, Any]]:
    own = report.department.id if report.scope != "all" and report.department is not None else None

    def row(r: LeagueRow) -> dict[str, Any]:
        f = r.figures
        change = c.rate_change(f.on_time_feedback_rate, r.previous_on_time_feedback_rate, lang)
        return {
            "rank": r.rank, "department": r.department.name, "own": r.department.id == own,
            "on_time": f.on_time, "due": f.assignments_due, "rate": c.rate(f.on_time_feedback_rate),
            "nothing_due": f.on_time_feedback_rate.value is None,
            "bar": _bar(f.on_time_feedback_rate.value, BAR_PX),
            "bar_colour": _rate_colour(f.on_time_feedback_rate.value, report),
            "change": c.points(f.on_time_feedback_rate, r.previous_on_time_feedback_rate),
            "change_colour": _change_colour(change),
            "overdue": f.overdue_open, "max_days": r.max_working_days_overdue,
            "level": c.level_label(r.level, lang), "colour": c.LEVEL_COLOURS[r.level], "tint": c.LEVEL_TINTS[r.level],
            "url": urls.overdue_of(r.department.id),
        }

    return [row(r) for r in report.league_table]


def _trend(report: WeeklyReport, lang: str) -> list[dict[str, Any]]:
    most = max((p.figures.new_cases for p in report.trend), default=0) or 1
    return [{
        "week": c.week_short(p.week, lang), "current": p.week == report.week,
        "rate": c.rate(p.figures.on_time_feedback_rate), "nothing_due": p.figures.on_time_feedback_rate.value is None,
        "bar": _bar(p.figures.on_time_feedback_rate.value, TREND_BAR_PX),
        "bar_colour": _rate_colour(p.figures.on_time_feedback_rate.value, report),
        "new_cases": p.figures.new_cases, "new_bar": _bar(p.figures.new_cases / most, 60),
        "overdue": p.figures.overdue_open, "satisfaction": c.rate(p.figures.callbacks.satisfaction_rate),
    } for p in report.trend]


def _figures(current: Figures, previous: Figures, lang: str) -> list[dict[str, str]]:
    lines = [line for line in c.FIGURE_LINES if line.key in _EMAIL_FIGURES]
    out = []
    for line in lines:
        change = c.figure_change(line, current, previous, lang)
        out.append({"label": c.message(line.key, lang), "now": c.figure_text(line, current),
                    "before": c.figure_text(line, previous), "change": change.short,
                    "change_colour": _change_colour(change)})
    return out


def _context(report: WeeklyReport, lang: str, base_url: str, tz: ZoneInfo) -> dict[str, Any]:
    urls = _Urls(base_url, report.week)
    week = c.week_title(report.week, lang)
    department = report.department.name if report.scope != "all" and report.department is not None else None
    overdue = _overdue(report, lang, urls, tz)
    h = report.highlights
    return {
        "title": c.report_title(report, lang), "week": week, "department": department,
        "so_far": c.scope_note(report, lang, tz), "headline": _headline(report, lang),
        "generated": c.local_time(report.generated_at, lang, tz), "report_url": urls.report(),
        "floors": c.message("report.email.floors", lang, red=c.percent(report.floors.red_below),
                            yellow=c.percent(report.floors.yellow_below),
                            days=c.working_days(report.floors.red_overdue_working_days, lang)),
        "exceptions": _exceptions(report, lang, urls),
        "overdue": overdue, "overdue_total": len(report.overdue_list),
        "overdue_hidden": len(report.overdue_list) - len(overdue),
        "league": _league(report, lang, urls),
        "trend": _trend(report, lang),
        "figures": _figures(report.figures, report.previous_week, lang),
        "typical": [{"reference": x.reference, "title": x.title, "url": urls.case(x.id),
                     "department": c.in_parens(x.lead_department.name, lang) if x.lead_department else ""}
                    for x in h.typical_cases_closed],
        "outcomes": [{"reference": o.case.reference, "title": o.case.title, "url": urls.case(o.case.id),
                      "department": c.in_parens(o.department.name, lang),
                      "text": c.outcome_text(o.fines_yuan, o.losses_recovered_yuan, o.cases_filed, lang)}
                     for o in h.largest_outcomes],
        "repeats": [{"enterprise": r.enterprise_name, "code": r.credit_code, "n": len(r.cases),
                     "cases": [{"reference": x.reference, "title": x.title, "url": urls.case(x.id),
                                "created": c.local_time(x.created_at, lang, tz)} for x in r.cases]}
                    for r in report.repeat_complaints],
    }


def render_email(report: WeeklyReport, *, language: str, base_url: str,
                 timezone: str = c.DEFAULT_TIMEZONE) -> RenderedEmail:
    """The weekly summary email for REPORT (all departments, or a head's section) in LANGUAGE."""
    lang = normalise_language(language)
    context = _context(report, lang, base_url, ZoneInfo(timezone))
    subject = render("reports/subject.txt", lang=lang, **context)
    return RenderedEmail(
        # A subject is one line: newlines would let header folding go wrong.
        subject=" ".join(subject.split()),
        html=render("reports/email.html", lang=lang, **context),
        text=render("reports/email.txt", lang=lang, **context).strip() + "\n",
    )
