"""`gongzhi report weekly [--week W] [--out DIR] [--send] [--format json|html|docx|xlsx]` — the weekly summary.

The command builds the report through the same use case as the API
(`shared.reports.figures.report_for`), acting as ``SYSTEM``: JSON (the API's)
or the email's HTML to standard output, or any of the four files into `--out`
(all four when no `--format` is given).  `--send` queues the week for its
recipients through the same delivery as the schedule (shared/reports/delivery.py),
so a week sent before is not sent twice.  A week in the future, still running
(for `--send`) or before the first case is refused with one line and exit 2.
The `report` group is shared with `report campaign` (`campaign_report.report_group`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from sqlalchemy import select
from sqlmodel import Session, col

from services.cli.campaign_report import report_group
from shared.actors import SYSTEM
from shared.clock import SystemClock
from shared.db import session_scope
from shared.departments.models import Department
from shared.errors import DomainError
from shared.i18n import LANGUAGES, N_, translate
from shared.reports import delivery, render
from shared.reports.figures import last_complete_week, parse_week, report_for, weekly_rows
from shared.reports.model import WeeklyReport
from shared.reports.weeks import IsoWeek
from shared.settings import Settings, get_settings

LANG = "zh-CN"

FORMATS = ("json", "html", "docx", "xlsx")
BINARY = frozenset({"docx", "xlsx"})


@dataclass
class WeeklyJob:
    """One week's report as the command builds it, and the session it was read in (for the rows)."""

    session: Session
    settings: Settings
    week: IsoWeek
    department_id: int | None
    report: WeeklyReport
    now: datetime
    lang: str

    def artefact(self, fmt: str) -> bytes:
        """The report as `fmt`: the JSON of the API, the email's HTML, the Word file, the workbook."""
        tz = self.settings.timezone
        if fmt == "json":
            return self.report.model_dump_json(indent=2).encode()
        if fmt == "html":
            return render.render_email(self.report, language=self.lang, base_url=self.settings.base_url,
                                       timezone=tz).html.encode()
        if fmt == "docx":
            return render.render_docx(self.report, language=self.lang, timezone=tz)
        rows = weekly_rows(self.session, self.week, self.department_id, now=self.now, settings=self.settings)
        return render.render_xlsx(self.report, rows, language=self.lang, timezone=tz)


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
    format_: str | None = typer.Option(
        None, "--format", help="json | html | docx | xlsx；默认 json 到标准输出，有 --out 时四种都写 / "
                               "default: json to standard output, all four with --out"),
    department: str | None = typer.Option(None, "--department",
                                          help="部门代码：只出该部门的部分 / one department's section"),
    out: Path | None = typer.Option(None, "--out", file_okay=False, dir_okay=True,
                                    help="把文件写入此目录 / write the files to this directory"),
    send: bool = typer.Option(False, "--send", help="把该周周报发给领导和各部门负责人（每人只发一次）/ "
                                                  "send the week to leaders and heads (once per person)"),
    lang: str = typer.Option(LANG, "--lang", help="zh-CN | en"),
) -> None:
    """周报：生成（并可发送）任一已过去的周 / build (and send) the weekly summary of any past week."""
    formats = [format_] if format_ else (list(FORMATS) if out is not None else ["json"])
    if format_ is not None and format_ not in FORMATS:
        raise _refuse(N_("report_format_unavailable"), format=format_, allowed=", ".join(FORMATS))
    if lang not in LANGUAGES:
        raise _refuse(N_("cli.report.bad_language"), value=lang, allowed=", ".join(LANGUAGES))
    if out is None and BINARY & set(formats):
        raise _refuse(N_("report.needs_out"), format=format_)
    settings = get_settings()
    now = SystemClock().now()
    try:
        iso_week = parse_week(week) if week is not None else last_complete_week(now, settings)
        with session_scope() as session:  # commits at the end: what --send queued, at once
            department_id = _department_id(session, department)
            report = report_for(session, SYSTEM, iso_week, now=now, settings=settings, department_id=department_id)
            job = WeeklyJob(session, settings, iso_week, department_id, report, now, lang)
            for fmt in formats:
                content = job.artefact(fmt)
                if out is None:
                    typer.echo(content.decode())
                    continue
                out.mkdir(parents=True, exist_ok=True)
                target = out / delivery.file_name(report, fmt, lang)
                target.write_bytes(content)
                typer.echo(str(target))
            if send:
                sent = delivery.deliver_week(session, iso_week, now=now, settings=settings)
                typer.echo(translate(N_("report.queued"), LANG, week=str(iso_week), queued=sent.queued,
                                     already=sent.already, recipients=sent.recipients))
                for address in sent.queued_to:
                    typer.echo(f"-> {address}")
    except DomainError as exc:
        raise _refuse(exc.key, **exc.params) from None


def register(app: typer.Typer) -> None:
    report_group(app).command("weekly")(weekly)
