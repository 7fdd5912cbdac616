"""The weekly summary as an Excel workbook: the figures, and the rows behind them.

Sheets: overall figures against last week, the league table, the 8-week trend,
assignments due in the week, the overdue list, the callbacks.  Numbers are
numbers (rates as fractions formatted 0.0%, money as #,##0.00) and times are
real Excel datetimes in local time, so a reader can sort, filter and sum.  The
header row is frozen; column widths count a Chinese character as two.

Written with XlsxWriter in constant-memory mode: a week of a large city is
tens of thousands of rows, each row goes to disk as it is written, and one
Format object per (number format, fill) serves every cell that uses it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from shared.i18n import N_, normalise_language, state_label
from shared.reports.model import Rate, ReportRows, WeeklyReport
from shared.reports.render import common as c
from shared.reports.weeks import IsoWeek

MAX_WIDTH = 60
_HEADER_STYLE = {"bold": True, "bg_color": "#F2F2F2", "pattern": 1, "align": "center", "valign": "vcenter"}
_LEVEL_FILL = {"red": "FEE2E2", "yellow": "FEF3C7", "green": "DCFCE7"}


class Fmt(Enum):
    TEXT = "@"
    INT = "0"
    PERCENT = "0.0%"
    DAYS = "0.0"
    YUAN = "#,##0.00"
    TIME = "yyyy-mm-dd hh:mm"
    DATE = "yyyy-mm-dd"


# Formats Excel's General format already shows right: no style needed.
_PLAIN = frozenset({Fmt.TEXT, Fmt.INT})
# What a cell of each format takes in display characters, whatever its value.
_FIXED_WIDTH = {Fmt.TIME: 16, Fmt.DATE: 10, Fmt.PERCENT: 7, Fmt.YUAN: 14}


@dataclass(frozen=True)
class Column:
    key: str
    fmt: Fmt = Fmt.TEXT


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK, full-width) characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _column_width(header: str, values: Sequence[Sequence[Any]], n: int, fmt: Callable[[int, int], Fmt],
                  uniform: Fmt | None) -> int:
    """The widest cell of column N in display characters, header included.

    A text of k characters is at most 2k wide, so only the longest texts are
    measured: a week's workbook holds a million cells.  UNIFORM is the column's
    format when no row overrides it.
    """
    widest = display_width(header)
    if uniform is not None and uniform in _FIXED_WIDTH:
        return max(widest, _FIXED_WIDTH[uniform]) if any(row[n] is not None for row in values) else widest
    if uniform is not None:
        texts = [v if isinstance(v, str) else str(v) for row in values if (v := row[n]) is not None]
        if not texts:
            return widest
        longest = max(map(len, texts))
        if 2 * longest <= widest:
            return widest
        floor = max(widest, longest)  # a text is at least as wide as it is long
        return max([floor, *(display_width(t) for t in texts if 2 * len(t) > floor)])
    for r, row in enumerate(values):
        value = row[n]
        if value is None:
            continue
        f = fmt(r, n)
        if f in _FIXED_WIDTH:
            widest = max(widest, _FIXED_WIDTH[f])
            continue
        text = value if isinstance(value, str) else str(value)
        if 2 * len(text) > widest:
            widest = max(widest, display_width(text))
    return widest


def _value(value: Any) -> Any:
    if isinstance(value, Rate):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    return value


class _Book:
    def __init__(self, lang: str, tz: ZoneInfo) -> None:
        self.out = BytesIO()
        self.wb = xlsxwriter.Workbook(self.out, {"constant_memory": True})
        self.lang, self.tz = lang, tz
        self.header = self.wb.add_format(_HEADER_STYLE)
        self._formats: dict[tuple[Fmt, str | None], Format | None] = {}
        # Labels repeated on every row, looked up once per workbook: a week has ~50,000 rows.
        self._labels: dict[str, str] = {}
        self._yes, self._no = self.message("report.yes"), self.message("report.no")

    def message(self, key: str, **params: object) -> str:
        return c.message(key, self.lang, **params)

    def label(self, key: str) -> str:
        """A parameterless message, once per workbook."""
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = self.message(key)
        return found

    def state(self, state: str) -> str:
        found = self._labels.get(state)
        if found is None:
            found = self._labels[state] = state_label(state, self.lang)
        return found

    def time(self, value: datetime | None) -> datetime | None:
        return None if value is None else c.local_naive(value, self.tz)

    def yes_no(self, value: bool | None) -> str | None:
        if value is None:
            return None
        return self._yes if value else self._no

    def format(self, f: Fmt, fill: str | None) -> Format | None:
        """One Format per (number format, fill), shared by every cell that uses it."""
        key = (f, fill)
        if key not in self._formats:
            style: dict[str, Any] = {}
            if f not in _PLAIN:
                style["num_format"] = f.value
            if fill:
                style.update(bg_color=f"#{fill}", pattern=1)
            self._formats[key] = self.wb.add_format(style) if style else None
        return self._formats[key]

    def sheet(self, title_key: str, columns: Sequence[Column], rows: list[list[Any]], *,
              fills: Callable[[int], dict[int, str]] | None = None,
              formats: Callable[[int], dict[int, Fmt]] | None = None, notes: Sequence[str] = ()) -> None:
        """One sheet: a frozen header row, then ROWS; FILLS and FORMATS override colours and formats per cell."""
        ws: Worksheet = self.wb.add_worksheet(self.message(title_key))
        headers = [self.message(col.key) for col in columns]
        # Converted in place: a week's rows are built for this sheet alone, and a copy of a
        # million cells would double what rendering holds.
        values = rows
        for row in values:
            for n, v in enumerate(row):
                if isinstance(v, (Rate, Decimal)):
                    row[n] = _value(v)

        per_row = [formats(r) for r in range(len(values))] if formats else None

        def fmt(r: int, n: int) -> Fmt:
            return per_row[r].get(n, columns[n].fmt) if per_row else columns[n].fmt

        for n in range(len(columns)):
            uniform = None if per_row else columns[n].fmt
            ws.set_column(n, n, min(MAX_WIDTH, _column_width(headers[n], values, n, fmt, uniform) + 2))
        ws.freeze_panes(1, 0)
        if values:
            ws.autofilter(0, 0, len(values), len(columns) - 1)
        for n, text in enumerate(headers):
            ws.write_string(0, n, text, self.header)
        plain = [self.format(col.fmt, None) for col in columns]
        for r, row in enumerate(values, start=1):
            colour = fills(r - 1) if fills else None
            overrides = per_row[r - 1] if per_row else None
            for n, value in enumerate(row):
                if value is None:
                    continue
                style = plain[n]
                if colour or overrides:
                    style = self.format(overrides.get(n, columns[n].fmt) if overrides else columns[n].fmt,
                                        colour.get(n) if colour else None)
                _write(ws, r, n, value, style)
        if notes:
            for r, note in enumerate(notes, start=len(values) + 2):
                ws.write_string(r, 0, note)

    def bytes(self) -> bytes:
        self.wb.close()
        return self.out.getvalue()


def _write(ws: Worksheet, r: int, n: int, value: Any, style: Format | None) -> None:
    # By type, not ws.write's guessing: a text that starts with "=" stays text.
    if isinstance(value, str):
        ws.write_string(r, n, value, style)
    elif isinstance(value, bool):
        ws.write_boolean(r, n, value, style)
    elif isinstance(value, (int, float)):
        ws.write_number(r, n, value, style)
    elif isinstance(value, (datetime, date)):
        ws.write_datetime(r, n, value, style)
    else:
        ws.write_string(r, n, str(value), style)


def _figures_sheet(book: _Book, report: WeeklyReport) -> None:
    rows = [[book.message(line.key), line.get(report.figures), line.get(report.previous_week),
             c.figure_change(line, report.figures, report.previous_week, book.lang).short]
            for line in c.FIGURE_LINES]
    # Each row is its own kind of figure: a rate, a count, a sum of money.
    kinds = {c.Kind.RATE: Fmt.PERCENT, c.Kind.DAYS: Fmt.DAYS, c.Kind.YUAN: Fmt.YUAN, c.Kind.COUNT: Fmt.INT}
    book.sheet(N_("report.sheet.figures"), [
        Column(N_("report.col.figure")), Column(N_("report.col.this_week")), Column(N_("report.col.last_week")),
        Column(N_("report.col.change"))], rows,
        formats=lambda r: dict.fromkeys((1, 2), kinds[c.FIGURE_LINES[r].kind]), notes=_notes(book, report))


def _notes(book: _Book, report: WeeklyReport) -> list[str]:
    notes = [book.message("report.xlsx.period", week=c.week_title(report.week, book.lang),
                    generated=c.local_time(report.generated_at, book.lang, book.tz))]
    if report.scope != "all" and report.department is not None:
        notes.append(book.message("report.email.department_note", department=report.department.name))
    note = c.scope_note(report, book.lang, book.tz)
    if note:
        notes.append(note)
    return notes


def _league_sheet(book: _Book, report: WeeklyReport) -> None:
    rows, levels = [], []
    for r in report.league_table:
        f = r.figures
        rows.append([
            r.rank, r.department.name, c.level_label(r.level, book.lang),
            c.level_reasons(r.level_reasons, report.floors, book.lang),
            f.assignments_due, f.on_time, f.on_time_by_extension, f.on_time_feedback_rate,
            r.previous_on_time_feedback_rate, f.overdue_open, r.max_working_days_overdue, f.acceptance_due,
            f.accepted_on_time, f.on_time_acceptance_rate, f.returns.dispatches, f.returns.returns,
            f.returns.return_rate, f.returns.returned_twice, f.callbacks.made, f.callbacks.reached,
            f.callbacks.satisfaction_rate, f.callbacks.resolution_rate, f.new_cases, f.closed_cases,
            f.inspections_held, f.outcomes.fines_yuan, f.outcomes.losses_recovered_yuan,
        ])
        levels.append(r.level.value)
    book.sheet(N_("report.sheet.departments"), [
        Column(N_("report.col.rank"), Fmt.INT), Column(N_("report.col.department")), Column(N_("report.col.level")),
        Column(N_("report.col.reasons")), Column(N_("report.col.due_count"), Fmt.INT),
        Column(N_("report.col.on_time_count"), Fmt.INT), Column(N_("report.col.by_extension"), Fmt.INT),
        Column(N_("report.col.on_time_rate"), Fmt.PERCENT), Column(N_("report.col.previous_rate"), Fmt.PERCENT),
        Column(N_("report.col.overdue"), Fmt.INT), Column(N_("report.col.max_days"), Fmt.INT),
        Column(N_("report.col.acceptance_due"), Fmt.INT), Column(N_("report.col.accepted_on_time"), Fmt.INT),
        Column(N_("report.col.acceptance_rate"), Fmt.PERCENT), Column(N_("report.col.dispatches"), Fmt.INT),
        Column(N_("report.col.returns"), Fmt.INT), Column(N_("report.col.return_rate"), Fmt.PERCENT),
        Column(N_("report.col.returned_twice"), Fmt.INT), Column(N_("report.col.callbacks_made"), Fmt.INT),
        Column(N_("report.col.callbacks_reached"), Fmt.INT), Column(N_("report.col.satisfaction"), Fmt.PERCENT),
        Column(N_("report.col.resolution"), Fmt.PERCENT), Column(N_("report.col.new_cases"), Fmt.INT),
        Column(N_("report.col.closed_cases"), Fmt.INT), Column(N_("report.col.inspections"), Fmt.INT),
        Column(N_("report.col.fines"), Fmt.YUAN), Column(N_("report.col.recovered"), Fmt.YUAN),
    ], rows, fills=lambda n: {2: _LEVEL_FILL[levels[n]]})


def _trend_sheet(book: _Book, report: WeeklyReport) -> None:
    rows = [[p.week, IsoWeek.parse(p.week).monday, p.figures.new_cases, p.figures.closed_cases,
             p.figures.assignments_due, p.figures.on_time, p.figures.on_time_feedback_rate, p.figures.overdue_open,
             p.figures.on_time_acceptance_rate, p.figures.returns.return_rate, p.figures.callbacks.satisfaction_rate,
             p.figures.callbacks.resolution_rate] for p in report.trend]
    book.sheet(N_("report.sheet.trend"), [
        Column(N_("report.col.week")), Column(N_("report.col.week_start"), Fmt.DATE),
        Column(N_("report.col.new_cases"), Fmt.INT), Column(N_("report.col.closed_cases"), Fmt.INT),
        Column(N_("report.col.due_count"), Fmt.INT), Column(N_("report.col.on_time_count"), Fmt.INT),
        Column(N_("report.col.on_time_rate"), Fmt.PERCENT), Column(N_("report.col.overdue"), Fmt.INT),
        Column(N_("report.col.acceptance_rate"), Fmt.PERCENT), Column(N_("report.col.return_rate"), Fmt.PERCENT),
        Column(N_("report.col.satisfaction"), Fmt.PERCENT), Column(N_("report.col.resolution"), Fmt.PERCENT),
    ], rows)


def _due_sheet(book: _Book, rows: ReportRows) -> None:
    book.sheet(N_("report.sheet.due"), [
        Column(N_("report.col.assignment_id"), Fmt.INT), Column(N_("report.col.reference")),
        Column(N_("report.col.title")), Column(N_("report.col.department")), Column(N_("report.col.state")),
        Column(N_("report.col.dispatched_at"), Fmt.TIME), Column(N_("report.col.original_due"), Fmt.TIME),
        Column(N_("report.col.due_in_force"), Fmt.TIME), Column(N_("report.col.first_submitted"), Fmt.TIME),
        Column(N_("report.col.is_on_time")), Column(N_("report.col.is_by_extension")),
    ], [[r.assignment_id, r.case_reference, r.case_title, r.department.name, book.state(r.state),
         book.time(r.dispatched_at), book.time(r.original_feedback_due_at), book.time(r.feedback_due_at),
         book.time(r.first_submitted_at), book.yes_no(r.on_time), book.yes_no(r.on_time_by_extension)]
        for r in rows.assignments_due])


def _overdue_sheet(book: _Book, rows: ReportRows) -> None:
    book.sheet(N_("report.sheet.overdue"), [
        Column(N_("report.col.assignment_id"), Fmt.INT), Column(N_("report.col.reference")),
        Column(N_("report.col.title")), Column(N_("report.col.department")), Column(N_("report.col.assignee")),
        Column(N_("report.col.state")), Column(N_("report.col.due"), Fmt.TIME),
        Column(N_("report.col.overdue_days"), Fmt.INT),
    ], [[i.assignment_id, i.case_reference, i.case_title, i.department.name, c.assignee(i.assignee_name, book.lang),
         book.state(i.state), book.time(i.feedback_due_at), i.working_days_overdue]
        for i in sorted(rows.overdue, key=lambda i: (-i.working_days_overdue, i.feedback_due_at, i.assignment_id))])


def _callback_sheet(book: _Book, rows: ReportRows) -> None:
    def satisfaction(value: str | None) -> str | None:
        key = f"report.satisfaction.{value}"  # declared in _SATISFACTION_KEYS
        return None if value is None else book.label(key)

    book.sheet(N_("report.sheet.callbacks"), [
        Column(N_("report.col.callback_id"), Fmt.INT), Column(N_("report.col.reference")),
        Column(N_("report.col.department")), Column(N_("report.col.made_at"), Fmt.TIME),
        Column(N_("report.col.reached")), Column(N_("report.col.attempts"), Fmt.INT),
        Column(N_("report.col.satisfaction_level")), Column(N_("report.col.resolved")), Column(N_("report.col.note")),
    ], [[r.callback_id, r.case_reference, r.department.name, book.time(r.made_at), book.yes_no(r.reached),
         r.attempts, satisfaction(r.satisfaction), book.yes_no(r.resolved), r.note] for r in rows.callbacks])


# Satisfaction values (shared/callbacks/models.Satisfaction) are looked up by value.
_SATISFACTION_KEYS = (N_("report.satisfaction.satisfied"), N_("report.satisfaction.basically_satisfied"),
                      N_("report.satisfaction.unsatisfied"))


def render_xlsx(report: WeeklyReport, rows: ReportRows, *, language: str,
                timezone: str = c.DEFAULT_TIMEZONE) -> bytes:
    """The weekly summary's workbook: figures, league table, trend and the week's rows, in LANGUAGE."""
    book = _Book(normalise_language(language), ZoneInfo(timezone))
    book.wb.set_properties({
        "title": f"{c.report_title(report, book.lang)} {c.week_title(report.week, book.lang)}",
        "author": c.message("email.app_name", book.lang),
        "created": report.generated_at.replace(tzinfo=None),
    })
    _figures_sheet(book, report)
    _league_sheet(book, report)
    _trend_sheet(book, report)
    _due_sheet(book, rows)
    _overdue_sheet(book, rows)
    _callback_sheet(book, rows)
    return book.bytes()


def table_workbook(sheet_key: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], *, language: str,
                   notes: Sequence[str] = (), timezone: str = c.DEFAULT_TIMEZONE) -> bytes:
    """A list page's export: one sheet, headers from message keys, the header row frozen, widths fitted.

    Times in ROWS are aware datetimes; they are written as local wall time.
    """
    book = _Book(normalise_language(language), ZoneInfo(timezone))
    local = [[book.time(v) if isinstance(v, datetime) else v for v in row] for row in rows]
    book.sheet(sheet_key, columns, local, notes=notes)
    return book.bytes()
