"""Sending the weekly summary (issue 9 §4): leaders the whole report, each head their section.

Leaders get the full report (scope ``all``): the HTML email with the Word file
and the Excel workbook attached.  A department head gets their department's
section plus the league table (scope ``department:<id>``), with the same two
files for that section.  Everything goes through the outbox in the caller's
transaction, each message under the dedup key ``weekly:<week>:<scope>:<user id>``
— stable ids only — so two beats, a retried or killed task, or a rerun insert
nothing twice: the unique index refuses a second row.  The archive record of
each scope and a delivery row per recipient are written in the same
transaction, and the week is marked delivered there too, so a crash leaves
either everything or nothing.

Two deliveries running at once on PostgreSQL insert the same rows in the same
order (scopes, then recipients by id), so the second one waits for the first
and then finds every key taken; on SQLite writers take turns anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from shared.calendar.service import working_calendar
from shared.departments.models import Department
from shared.errors import DomainError
from shared.i18n import N_, message, normalise_language
from shared.outbox import service as outbox
from shared.outbox.models import OutboxMessage
from shared.outbox.smtp import MailAttachment
from shared.reports import archive, figures
from shared.reports.archive import Archived
from shared.reports.archive_models import WeeklyReportDelivery, WeeklyReportRecord
from shared.reports.model import WeeklyReport
from shared.reports.render.batch import Artefacts, Job, render_many
from shared.reports.schedule import due_weeks
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from shared.users.models import Role, User

log = logging.getLogger("gongzhi.reports")

KIND = "report.weekly"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_NAME = N_("report.file_name")
FILE_NAME_DEPARTMENT = N_("report.file_name.department")


def dedup_key(week: IsoWeek, scope: str, user_id: int) -> str:
    return f"weekly:{week}:{scope}:{user_id}"


def file_name(report: WeeklyReport, extension: str, lang: str) -> str:
    """共治周报-2026-W48.docx, 共治周报-2026-W48-商务局.xlsx (the department's section)."""
    if report.department is None:
        stem = message(FILE_NAME, lang, week=report.week)
    else:
        stem = message(FILE_NAME_DEPARTMENT, lang, week=report.week, department=report.department.name)
    return f"{stem}.{extension}"


def attachments(report: WeeklyReport, artefacts: Artefacts, lang: str) -> tuple[MailAttachment, ...]:
    """The Word file and the Excel workbook of a rendered report, named in `lang`."""
    return (MailAttachment(file_name(report, "docx", lang), DOCX, artefacts.docx),
            MailAttachment(file_name(report, "xlsx", lang), XLSX, artefacts.xlsx))


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    email: str
    language: str
    department_id: int | None  # None: a leader (the whole report); else the head's department


def recipients(session: Session) -> list[Recipient]:
    """Active leaders, and active heads of active departments; by scope, then user id."""
    rows = session.execute(
        select(col(User.id), col(User.name), col(User.email), col(User.language), col(User.role),
               col(User.department_id))
        .join(Department, col(Department.id) == col(User.department_id))
        .where(col(User.active).is_(True), col(User.role).in_([Role.LEADER.value, Role.HEAD.value]),
               (col(User.role) == Role.LEADER.value) | col(Department.active).is_(True))
        .order_by(col(User.id))
    ).all()
    found = [Recipient(uid, name, email, normalise_language(language),
                       None if role == Role.LEADER else department_id)
             for uid, name, email, language, role, department_id in rows]
    return sorted(found, key=lambda r: (r.department_id is not None, r.department_id or 0, r.user_id))


@dataclass
class WeekDelivery:
    week: str
    recipients: int = 0
    queued: int = 0  # new outbox messages
    already: int = 0  # recipients whose message existed (an earlier run)
    queued_to: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"week": self.week, "recipients": self.recipients, "queued": self.queued, "already": self.already}


def deliver_week(session: Session, week: IsoWeek, *, now: datetime, settings: Settings) -> WeekDelivery:
    """Queue the week's report for every recipient who has not had it; archive what was sent.

    Any past, complete week (the command line sends old ones on request).
    Flushes; the caller commits, and the after-commit hook wakes the relay.
    """
    figures.check_reportable(session, week, now=now, settings=settings)
    archive.require_complete(week, now, settings)
    people = recipients(session)
    result = WeekDelivery(week=str(week), recipients=len(people))
    keys = {p.user_id: dedup_key(week, archive.scope_of(p.department_id), p.user_id) for p in people}
    existing = set(session.scalars(select(col(OutboxMessage.dedup_key))
                                   .where(col(OutboxMessage.dedup_key).in_(list(keys.values())))))
    scopes: list[int | None] = [None, *sorted({p.department_id for p in people if p.department_id is not None})]
    records: dict[int | None, Archived] = archive.ensure_all(session, week, scopes, now=now, settings=settings)
    # Each (scope, language) someone still waits for is rendered once, on every core.
    wanted = {(p.department_id, p.language) for p in people if keys[p.user_id] not in existing}
    jobs = [((scope, lang), Job(records[scope].report, records[scope].rows, lang)) for scope, lang in sorted(
        wanted, key=lambda w: (w[0] is not None, w[0] or 0, w[1]))]
    rendered = dict(render_many(jobs, base_url=settings.base_url, timezone=settings.timezone,
                                processes=settings.report_render_processes,
                                parallel_rows=settings.report_render_parallel_rows))
    for person in people:
        key = keys[person.user_id]
        archived = records[person.department_id]
        if key not in existing:
            lang, scope = person.language, person.department_id
            artefacts = rendered[scope, lang]
            if outbox.enqueue(session, key=key, kind=KIND, to_address=person.email, subject=artefacts.email.subject,
                              body_text=artefacts.email.text, body_html=artefacts.email.html, now=now,
                              recipient_user_id=person.user_id,
                              attachments=attachments(archived.report, artefacts, lang)):
                result.queued += 1
                result.queued_to.append(person.email)
            else:
                result.already += 1
        else:
            result.already += 1
        _record_delivery(session, archived.record, person, key, now)
    archive.mark_delivered(session, [a.record.id for a in records.values() if a.record.id is not None], now)
    session.flush()
    return result


def _record_delivery(session: Session, record: WeeklyReportRecord, person: Recipient, key: str,
                     now: datetime) -> None:
    table = WeeklyReportDelivery.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(report_id=record.id, user_id=person.user_id, dedup_key=key,
                                         language=person.language, queued_at=now).on_conflict_do_nothing())


def delivered(session: Session, week: IsoWeek) -> bool:
    """Whether the week's scheduled delivery already happened (its records are marked)."""
    return session.scalars(select(col(WeeklyReportRecord.id)).where(
        col(WeeklyReportRecord.week) == str(week), col(WeeklyReportRecord.scope) == archive.ALL,
        col(WeeklyReportRecord.delivered_at).is_not(None))).first() is not None


@dataclass
class ScheduledRun:
    due: list[str] = field(default_factory=list)
    weeks: list[WeekDelivery] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # week -> why nothing was sent

    def as_dict(self) -> dict[str, object]:
        return {"due": self.due, "weeks": [w.as_dict() for w in self.weeks], "skipped": self.skipped}


def run_scheduled(session: Session, *, now: datetime, settings: Settings) -> ScheduledRun:
    """What the beat asks for: deliver each week whose send moment has come (shared/reports/schedule.py).

    A week already delivered is skipped without computing anything; one that
    cannot be reported (before the first case) is skipped and says why.
    """
    calendar = working_calendar(session, settings)
    run = ScheduledRun()
    for week in due_weeks(now, calendar, settings.report_send_at):
        run.due.append(str(week))
        if delivered(session, week):
            run.skipped[str(week)] = "delivered"
            continue
        try:
            run.weeks.append(deliver_week(session, week, now=now, settings=settings))
        except DomainError as exc:
            log.info("weekly report %s not sent: %s", week, exc.key)
            run.skipped[str(week)] = exc.key
    return run
