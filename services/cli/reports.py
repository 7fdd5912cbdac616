"""`gongzhi report weekly --week 2026-W48 --format json [--department CODE]` — the weekly summary.

The command builds the report through the same use case as the API
(`shared.reports.figures.report_for`), acting as ``SYSTEM``.  Output formats
are writers in `WRITERS` (format name -> function writing one report); `json`
prints to standard output.  Other artefacts (html, docx, xlsx), `--out` and
`--send` plug in here: add a writer, and options to `weekly`.  The `report`
group is shared with `report campaign` (`campaign_report.report_group`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import typer
from sqlalchemy import select
from sqlmodel import Session, col

from services.cli.campaign_report import report_group
from shared.actors import SYSTEM
from shared.clock import SystemClock
from shared.db import session_scope
from shared.departments.models import Department
from shared.errors import DomainError
from shared.i18n import N_, translate
from shared.reports.figures import last_complete_week, parse_week, report_for
from shared.reports.model import WeeklyReport
from shared.reports.weeks import IsoWeek
from shared.settings import Settings, get_settings

LANG = "zh-CN"

@dataclass
class WeeklyJob:
    """What a writer gets: the report, and the session it was read in (for the rows, if it needs them)."""

    session: Session
    settings: Settings
    week: IsoWeek
    department_id: int | None
    report: WeeklyReport


def write_json(job: WeeklyJob) -> None:
    typer.echo(job.report.model_dump_json(indent=2))


WRITERS: dict[str, Callable[[WeeklyJob], None]] = {"json": write_json}


def _refuse(key: str, **params: object) -> typer.Exit:
    typer.echo(translate(key, LANG, **params), err=True)
    return typer.Exit(2)


def _department_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    found = session.scalar(select(col(Department.id)).where(col(Department.code) == code))
    if found is None:
        raise _refuse(N_("report_unknown_department"), code=code)
    return int(found)


def weekly(
    week: str | None = typer.Option(None, "--week",
                                    help="ISO 周，如 2026-W48；默认上一个完整周 / default: last complete week"),
    format_: str = typer.Option("json", "--format", help="输出格式 / output format: " + ", ".join(WRITERS)),
    department: str | None = typer.Option(None, "--department",
                                          help="部门代码：只出该部门的部分 / one department's section"),
) -> None:
    """周报：一周的各项指标 / the weekly summary of one ISO week."""
    writer = WRITERS.get(format_)
    if writer is None:
        raise _refuse(N_("report_format_unavailable"), format=format_, allowed=", ".join(WRITERS))
    settings = get_settings()
    now = SystemClock().now()
    try:
        iso_week = parse_week(week) if week is not None else last_complete_week(now, settings)
        with session_scope() as session:
            department_id = _department_id(session, department)
            report = report_for(session, SYSTEM, iso_week, now=now, settings=settings, department_id=department_id)
            writer(WeeklyJob(session, settings, iso_week, department_id, report))
    except DomainError as exc:
        raise _refuse(exc.key, **exc.params) from None


def register(app: typer.Typer) -> None:
    report_group(app).command("weekly")(weekly)
