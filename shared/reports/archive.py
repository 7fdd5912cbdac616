"""The archive of weekly summaries: one record per (week, scope), kept, readable, regenerable.

A record is written the first time a complete week is delivered (or an admin
regenerates it) and is what the week said from then on: the leaders' page shows
it, the downloads render it, and a rerun of the delivery sends it rather than
recomputing.  Only an admin's regeneration replaces the figures (a late
correction in the data), and it sends nothing.

Who reads what: leaders, coordinators and admins every scope; a department head
the records of their own department; anyone else nothing (404, as for a case out
of reach).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from shared.actors import Actor, audit_user, require_admin
from shared.clock import FrozenClock
from shared.departments.models import Department
from shared.errors import Invalid, NotFound
from shared.events import service as events
from shared.i18n import N_
from shared.outbox.models import OutboxMessage, OutboxState
from shared.reports import figures
from shared.reports.archive_models import WeeklyReportDelivery, WeeklyReportRecord
from shared.reports.model import ReportRows, WeeklyReport
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from shared.users.models import Role, User

ALL = "all"
WEEK_NOT_OVER = N_("report.week_not_over")
# Roles that read every department's figures (the same as the figures' use case).
_READ_ALL = figures.READERS


def scope_of(department_id: int | None) -> str:
    return ALL if department_id is None else f"department:{department_id}"


def may_read_reports(actor: Actor) -> bool:
    """Whether the actor reads any weekly summary at all (the dashboard, the nav link)."""
    return actor.role in _READ_ALL or actor.role == Role.HEAD


def may_read(actor: Actor, department_id: int | None) -> bool:
    """Leaders, coordinators and admins read every scope; a head their own department's."""
    if actor.role in _READ_ALL:
        return True
    return actor.role == Role.HEAD and department_id is not None and actor.department_id == department_id


def require_complete(week: IsoWeek, now: datetime, settings: Settings) -> None:
    """Only a finished week is archived: a week still running would be sent half-counted."""
    if now < week.ends_at(settings.tz):
        raise Invalid("week", WEEK_NOT_OVER, week=str(week))


@dataclass(frozen=True)
class Archived:
    record: WeeklyReportRecord
    report: WeeklyReport
    rows: ReportRows


def _load(record: WeeklyReportRecord) -> Archived:
    return Archived(record, WeeklyReport.model_validate(record.report), ReportRows.model_validate(record.rows))


def find(session: Session, week: IsoWeek, department_id: int | None) -> WeeklyReportRecord | None:
    return session.scalars(select(WeeklyReportRecord).where(
        col(WeeklyReportRecord.week) == str(week), col(WeeklyReportRecord.scope) == scope_of(department_id),
    )).first()


def _compute(session: Session, week: IsoWeek, department_id: int | None, *, now: datetime,
             settings: Settings) -> tuple[WeeklyReport, ReportRows]:
    report = figures.weekly_report(session, week, department_id, now=now, settings=settings)
    rows = figures.weekly_rows(session, week, department_id, now=now, settings=settings)
    return report, rows


def ensure(session: Session, week: IsoWeek, department_id: int | None, *, now: datetime,
           settings: Settings) -> Archived:
    """The week's record for the scope, computed and inserted if there is none yet."""
    return ensure_all(session, week, [department_id], now=now, settings=settings)[department_id]


def ensure_all(session: Session, week: IsoWeek, department_ids: Sequence[int | None], *, now: datetime,
               settings: Settings) -> dict[int | None, Archived]:
    """The week's records for the scopes, those missing computed together (`figures.weekly_reports`:
    each statement once for all of them) and inserted.

    INSERT … ON CONFLICT DO NOTHING, then read: two deliveries at once compute it
    both, the second one's insert waits for the first to commit and keeps its row.
    """
    missing = [d for d in department_ids if find(session, week, d) is None]
    if missing:
        require_complete(week, now, settings)
        table = WeeklyReportRecord.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        built = figures.weekly_reports(session, week, now=now, settings=settings, scopes=missing)
        for department_id, (report, rows) in zip(missing, built, strict=True):
            session.execute(insert(table).values(
                week=str(week), scope=scope_of(department_id), department_id=department_id,
                report=report.model_dump(mode="json"), rows=rows.model_dump(mode="json"),
                generated_at=now, revision=1,
            ).on_conflict_do_nothing(index_elements=["week", "scope"]))
    found: dict[int | None, Archived] = {}
    for department_id in department_ids:
        record = find(session, week, department_id)
        assert record is not None
        found[department_id] = _load(record)
    return found


def regenerate(session: Session, actor: Actor, week: IsoWeek, *, now: datetime,
               settings: Settings) -> list[WeeklyReportRecord]:
    """Admins: compute the week again, for the whole report and every department section archived.

    Sends nothing (what went out went out); the records say who regenerated them
    and when, and the timeline keeps an event per record.
    """
    require_admin(actor)
    figures.check_reportable(session, week, now=now, settings=settings)
    require_complete(week, now, settings)
    scopes: list[int | None] = [None]
    scopes += sorted(d for d in session.scalars(
        select(col(WeeklyReportRecord.department_id)).where(
            col(WeeklyReportRecord.week) == str(week), col(WeeklyReportRecord.department_id).is_not(None)))
        if d is not None)
    user = audit_user(actor)
    done = []
    for department_id in scopes:
        record = find(session, week, department_id)
        if record is None:
            record = ensure(session, week, department_id, now=now, settings=settings).record
        else:
            report, rows = _compute(session, week, department_id, now=now, settings=settings)
            record.report = report.model_dump(mode="json")
            record.rows = rows.model_dump(mode="json")
            record.revision += 1
        record.generated_at = now
        record.generated_by_id = user.id if user else None
        session.add(record)
        session.flush()
        events.record(session, FrozenClock(now), user, "weekly_report", record.id, "regenerated",
                      after={"week": str(week), "scope": record.scope, "revision": record.revision})
        done.append(record)
    return done


def read(session: Session, actor: Actor, record_id: int) -> Archived:
    """One archived record the actor may read; 404 otherwise."""
    record = session.get(WeeklyReportRecord, record_id)
    if record is None or not may_read(actor, record.department_id):
        raise NotFound()
    return _load(record)


def listing(session: Session, actor: Actor, *, limit: int = 26) -> Sequence[WeeklyReportRecord]:
    """Newest weeks first: every scope for leaders and coordinators, a head's own section for a head."""
    stmt = select(WeeklyReportRecord).order_by(col(WeeklyReportRecord.week).desc(),
                                               col(WeeklyReportRecord.id))
    if actor.role not in _READ_ALL:
        if actor.role != Role.HEAD:
            return []
        stmt = stmt.where(col(WeeklyReportRecord.department_id) == actor.department_id)
    else:
        stmt = stmt.where(col(WeeklyReportRecord.scope) == ALL)
    return session.scalars(stmt.limit(limit)).all()


@dataclass(frozen=True)
class DeliveryState:
    report_id: int
    user_id: int
    user_name: str
    department_name: str
    role: Role
    to_address: str | None
    state: OutboxState | None  # None: the outbox row is gone
    sent_at: datetime | None
    queued_at: datetime


def delivery_states(session: Session, actor: Actor,
                    records: Sequence[WeeklyReportRecord]) -> dict[int, list[DeliveryState]]:
    """Per listed record: each recipient and where their email is.

    The whole report's record speaks for its week: it lists every recipient of
    that week (leaders and heads alike) to a reader of everything; a head's
    section lists only the section's own recipients.
    """
    readable = [r for r in records if r.id is not None and may_read(actor, r.department_id)]
    if not readable:
        return {}
    whole_weeks: dict[str, int] = {r.week: r.id for r in readable if r.scope == ALL}  # type: ignore[misc]
    sections: set[int] = {r.id for r in readable if r.scope != ALL}  # type: ignore[misc]
    listed = select(col(WeeklyReportRecord.id), col(WeeklyReportRecord.week)).where(
        col(WeeklyReportRecord.week).in_(list(whole_weeks)) | col(WeeklyReportRecord.id).in_(list(sections)))
    # Which listed record each record's deliveries are shown under.
    shown_under: dict[int, int] = {
        rid: rid if rid in sections else whole_weeks[week] for rid, week in session.execute(listed)}
    d = WeeklyReportDelivery
    rows = session.execute(
        select(col(d.report_id), col(d.user_id), col(User.name), col(Department.name), col(User.role),
               col(OutboxMessage.to_address), col(OutboxMessage.state), col(OutboxMessage.sent_at), col(d.queued_at))
        .join(User, col(User.id) == col(d.user_id))
        .join(Department, col(Department.id) == col(User.department_id))
        .outerjoin(OutboxMessage, col(OutboxMessage.dedup_key) == col(d.dedup_key))
        .where(col(d.report_id).in_(list(shown_under)))
        .order_by(col(d.report_id), col(d.user_id))
    ).all()
    found: dict[int, list[DeliveryState]] = {r.id: [] for r in readable}  # type: ignore[misc]
    for r in rows:
        found[shown_under[r[0]]].append(DeliveryState(r[0], r[1], r[2], r[3], Role(r[4]), r[5],
                                                      OutboxState(r[6]) if r[6] else None, r[7], r[8]))
    return found


def mark_delivered(session: Session, record_ids: Sequence[int], now: datetime) -> None:
    session.execute(update(WeeklyReportRecord).where(
        col(WeeklyReportRecord.id).in_(list(record_ids)), col(WeeklyReportRecord.delivered_at).is_(None),
    ).values(delivered_at=now))
