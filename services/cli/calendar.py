"""`gongzhi calendar seed|show|load` and `gongzhi due` — the working calendar from the shell."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from shared.actors import SYSTEM
from shared.calendar import holidays as sources
from shared.calendar import service
from shared.calendar.rules import Deadline
from shared.clock import SystemClock
from shared.db import session_scope
from shared.errors import DomainError, Invalid
from shared.i18n import translate
from shared.settings import get_settings

WEEKDAYS = "一二三四五六日"

LOAD_HELP = """Load FILE as the official schedule of YEAR (replaces that year) and recompute
provisional deadlines in it.

FILE is text, one day a line — date, kind, optional name; '#' starts a comment:

    2027-01-01 holiday 元旦
    2027-02-06 holiday 春节
    2027-02-14 workday 春节调休

(kind: holiday/休 or workday/班), or JSON:

    {"holidays": ["2027-01-01", {"date": "2027-02-06", "name": "春节"}],
     "workdays": [{"date": "2027-02-14", "name": "春节调休"}]}

Listing every day of the notice, weekends included, is fine: only days differing from Mon–Fri are stored.
"""

DayItem = date | tuple[date, str]
_HOLIDAY_WORDS = {"holiday", "off", "休", "放假"}
_WORKDAY_WORDS = {"workday", "work", "班", "上班"}


def _parse_date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{where}: not a date (YYYY-MM-DD): {text!r}") from None


def _parse_json(text: str) -> tuple[list[DayItem], list[DayItem]]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise typer.BadParameter('JSON must be an object with "holidays" and "workdays" lists')
    out: dict[str, list[DayItem]] = {"holidays": [], "workdays": []}
    for key, items in out.items():
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise typer.BadParameter(f'"{key}" must be a list')
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            if isinstance(item, str):
                items.append(_parse_date(item, where))
            elif isinstance(item, dict) and isinstance(item.get("date"), str):
                items.append((_parse_date(item["date"], where), str(item.get("name") or "")))
            else:
                raise typer.BadParameter(f'{where}: expected "YYYY-MM-DD" or {{"date": …, "name": …}}')
    return out["holidays"], out["workdays"]


def _parse_lines(text: str) -> tuple[list[DayItem], list[DayItem]]:
    holidays: list[DayItem] = []
    workdays: list[DayItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(maxsplit=2)
        if len(parts) < 2:
            raise typer.BadParameter(f"line {number}: expected 'DATE holiday|workday [name]'")
        day = _parse_date(parts[0], f"line {number}")
        name = parts[2].strip() if len(parts) > 2 else ""
        kind = parts[1].lower()
        if kind in _HOLIDAY_WORDS:
            holidays.append((day, name))
        elif kind in _WORKDAY_WORDS:
            workdays.append((day, name))
        else:
            raise typer.BadParameter(f"line {number}: kind must be holiday or workday, not {parts[1]!r}")
    return holidays, workdays


def parse_schedule(text: str) -> tuple[list[DayItem], list[DayItem]]:
    """(holidays, workdays) from the text or JSON format described in `calendar load --help`."""
    if text.lstrip().startswith("{"):
        try:
            return _parse_json(text)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"invalid JSON: {exc}") from None
    return _parse_lines(text)


def _fail(exc: DomainError) -> typer.Exit:
    where = f"{exc.field}: " if isinstance(exc, Invalid) else ""
    typer.echo(f"error: {where}{translate(exc.key, 'zh-CN', **exc.params)} / "
               f"{translate(exc.key, 'en', **exc.params)}", err=True)
    return typer.Exit(code=1)


def _parse_start(text: str) -> datetime:
    settings = get_settings()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date-time: {text!r}", param_hint="--from") from None
    return value.replace(tzinfo=settings.tz) if value.tzinfo is None else value


def register(app: typer.Typer) -> None:
    calendar = typer.Typer(help="工作日历 / working calendar", no_args_is_help=True)

    @calendar.command("seed")
    def seed() -> None:
        """Store the official schedules the chinese-calendar package knows (idempotent)."""
        with session_scope() as session:
            added = service.seed_from_package(session, SystemClock())
        typer.echo(f"seeded {added} rows from {sources.package_source()}")

    @calendar.command("show")
    def show(year: Annotated[int | None, typer.Option(help="year (default: this year)")] = None) -> None:
        """List the days of a year that differ from Mon–Fri, and whether it is official."""
        settings = get_settings()
        year = year or SystemClock().now().astimezone(settings.tz).year
        with session_scope() as session:
            view = service.year_view(session, year)
        if view.official:
            where = "database" if view.loaded else "package, not seeded"
            typer.echo(f"{year}: 官方安排 official — {view.source} ({where})")
        else:
            typer.echo(f"{year}: 暂定 provisional — statutory holidays only, make-up days unknown")
        for d in view.days:
            kind = "班 workday" if d.is_working else "休 holiday"
            typer.echo(f"{d.day.isoformat()} 周{WEEKDAYS[d.day.weekday()]} {kind} {d.name}".rstrip())

    @calendar.command("load", help=LOAD_HELP)
    def load(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
        year: Annotated[int, typer.Option(help="the year the schedule is for")],
    ) -> None:
        holidays, workdays = parse_schedule(file.read_text(encoding="utf-8-sig"))
        try:
            with session_scope() as session:
                result = service.load_official_year(
                    session, SystemClock(), SYSTEM, year, holidays, workdays, service.ADMIN_SOURCE
                )
        except DomainError as exc:
            raise _fail(exc) from None
        typer.echo(f"loaded {year}: {result.holidays} weekday holidays, "
                   f"{result.workdays} make-up working days")
        typer.echo(f"recomputed {result.recomputed} of {result.checked} provisional assignments"
                   f" ({result.still_provisional} still provisional)")
        if result.assignment_ids:
            typer.echo("assignments: " + ", ".join(str(i) for i in result.assignment_ids))

    app.add_typer(calendar, name="calendar")

    @app.command("due")
    def due(
        start: Annotated[str, typer.Option("--from", help="dispatch time, ISO 8601; no offset = local time")],
        days: Annotated[int, typer.Option("--days", min=0, help="working days")],
    ) -> None:
        """Print the due time N working days after --from (close of business, local time)."""
        settings = get_settings()
        at = _parse_start(start)
        deadline = _deadline(at, days)
        typer.echo(deadline.at.astimezone(settings.tz).isoformat())
        if deadline.provisional:
            note = translate("calendar_provisional")
            typer.echo(f"(provisional) {note}", err=True)


def _deadline(at: datetime, days: int) -> Deadline:
    """From the database's calendar; a database without the tables yet falls back to the package."""
    try:
        with session_scope() as session:
            calendar = service.working_calendar(session)
    except SQLAlchemyError:
        calendar = service.package_calendar()
    return calendar.add_working_days(at, days)
