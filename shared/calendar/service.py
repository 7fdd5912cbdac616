"""The working calendar in the database: read it, seed it, load a year, recompute deadlines.

`calendar_day` holds only the dates that differ from the Mon–Fri rule;
`calendar_year` marks the years whose official schedule is loaded.  A year in
neither the table nor the `chinese-calendar` package is provisional (see
`shared.calendar.rules`).  When an admin loads a year, every provisional
deadline that counted a day in it is computed again, so the due time in force
is always the one the official schedule gives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from shared.actors import Actor, audit_user, require_admin
from shared.assignments.models import Assignment, ExtensionRequest, ExtensionState
from shared.calendar import holidays as sources
from shared.calendar.models import CalendarDay, CalendarYear
from shared.calendar.rules import Deadline, WorkingCalendar, differs_from_weekly_rule
from shared.clock import Clock
from shared.errors import Invalid
from shared.events import service as events
from shared.i18n import N_
from shared.settings import Settings, get_settings
from shared.users.models import User

__all__ = [
    "Deadline",
    "RecomputeResult",
    "SpecialDay",
    "WorkingCalendar",
    "YearView",
    "calendar_warnings",
    "load_official_year",
    "loaded_years",
    "package_calendar",
    "recompute_provisional_deadlines",
    "seed_from_package",
    "working_calendar",
    "year_view",
]

MIN_YEAR, MAX_YEAR = 1950, 2199
ADMIN_SOURCE = "admin"
NAME_MAX = 64
_CHUNK = 500  # ids per IN (...) — well under SQLite's bound-parameter limit

DayInput = date | tuple[date, str]


@dataclass(frozen=True)
class SpecialDay:
    day: date
    is_working: bool
    name: str


@dataclass(frozen=True)
class YearView:
    year: int
    official: bool  # an official schedule applies (loaded, or from the package)
    loaded: bool  # it is in calendar_year (seeded or loaded by an admin)
    source: str | None
    loaded_at: datetime | None
    days: list[SpecialDay]

    @property
    def provisional(self) -> bool:
        return not self.official


@dataclass
class RecomputeResult:
    year: int
    holidays: int = 0  # weekday holidays stored
    workdays: int = 0  # weekend make-up working days stored
    checked: int = 0  # provisional assignments whose deadlines touch the year
    recomputed: int = 0  # of those, the ones whose deadlines or flag changed
    still_provisional: int = 0
    assignment_ids: list[int] = field(default_factory=list)


# ------------------------------------------------------------------ reading


_cache: dict[tuple[str, str, object], WorkingCalendar] = {}
_cache_lock = threading.Lock()


def _fingerprint(session: Session) -> object:
    """One cheap aggregate row that changes whenever the stored calendar does."""
    years = session.execute(select(func.count(), func.max(CalendarYear.loaded_at))).one()
    days = session.execute(
        select(func.count(), func.min(CalendarDay.day), func.max(CalendarDay.day),
               func.sum(case((col(CalendarDay.is_working), 1), else_=0)))
    ).one()
    return (tuple(years), tuple(days))


FINGERPRINT_TTL_SECONDS = 5.0
_last_checked: dict[tuple[str, str], tuple[float, WorkingCalendar]] = {}


def working_calendar(session: Session, settings: Settings | None = None) -> WorkingCalendar:
    """The calendar as the database says, in memory.

    Requests and reminder passes ask for it constantly, so it is kept per
    process: the stored calendar's fingerprint (one small aggregate) is checked
    at most every few seconds, and a year loaded by this process drops the
    cache at once.  Another process sees an admin's change within seconds.
    """
    settings = settings or get_settings()
    url = str(session.get_bind().engine.url)
    recent = recently_checked_calendar(url, settings)
    if recent is not None:
        return recent
    where = _where(url, settings)
    key = (*where, _fingerprint(session))
    calendar = _cache.get(key)
    if calendar is None:
        years = {row for row in session.scalars(select(CalendarYear.year))}  # type: ignore[call-overload]
        official: dict[int, dict[date, bool]] = {year: {} for year in years}
        for row in session.scalars(select(CalendarDay)):
            if row.day.year in official:
                official[row.day.year][row.day] = row.is_working
        calendar = WorkingCalendar(tz=settings.tz, close_of_business=settings.close_of_business,
                                   official=official)
        with _cache_lock:
            if len(_cache) > 32:
                _cache.clear()
            _cache[key] = calendar
    _last_checked[where] = (time.monotonic(), calendar)
    return calendar


def _where(url: str, settings: Settings) -> tuple[str, str]:
    """Which calendar: the database it is read from and the settings that shape it."""
    return url, settings.timezone + str(settings.close_of_business)


def recently_checked_calendar(url: str, settings: Settings) -> WorkingCalendar | None:
    """working_calendar's answer while it needs no check, without a session; else None.

    `url` is str(engine.url) of the database it was read from.  For a caller
    that would otherwise open a session only to be told the calendar it has.
    """
    recent = _last_checked.get(_where(url, settings))
    if recent is not None and time.monotonic() - recent[0] < FINGERPRINT_TTL_SECONDS:
        return recent[1]
    return None


def forget_cached_calendars() -> None:
    with _cache_lock:
        _cache.clear()
        _last_checked.clear()


def package_calendar(settings: Settings | None = None) -> WorkingCalendar:
    """The calendar without a database: the package's years, provisional elsewhere."""
    settings = settings or get_settings()
    return WorkingCalendar(tz=settings.tz, close_of_business=settings.close_of_business)


def year_view(session: Session, year: int) -> YearView:
    """The special days of a year and where they come from."""
    row = session.get(CalendarYear, year)
    if row is not None:
        days = [
            SpecialDay(d.day, d.is_working, d.name)
            for d in session.scalars(
                select(CalendarDay)
                .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))  # type: ignore[arg-type]
                .order_by(CalendarDay.day)  # type: ignore[arg-type]
            )
        ]
        return YearView(year, True, True, row.source, row.loaded_at, days)
    package = sources.package_special_days(year)
    if package is not None:
        days = [SpecialDay(d, w, n) for d, (w, n) in package.items()]
        return YearView(year, True, False, sources.package_source(), None, days)
    days = [SpecialDay(d, w, n) for d, (w, n) in sources.provisional_special_days(year).items()]
    return YearView(year, False, False, None, None, days)


def loaded_years(session: Session, *, since: int = MIN_YEAR) -> list[int]:
    """The years from SINCE on whose schedule is stored (seeded or loaded by an admin)."""
    return list(session.scalars(select(col(CalendarYear.year)).where(col(CalendarYear.year) >= since)
                                .order_by(col(CalendarYear.year))))


def calendar_warnings(
    session: Session, clock: Clock, actor: Actor, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """Message keys (with their year) an admin should see about missing schedules (admins only).

    The State Council publishes next year's schedule in November: from then on
    the missing next year is flagged; a missing current year always is.
    """
    require_admin(actor)
    calendar = working_calendar(session, settings)
    today = calendar.local_date(clock.now())
    warnings: list[dict[str, Any]] = []
    if calendar.is_provisional_year(today.year):
        warnings.append({"key": N_("calendar_year_missing"), "year": today.year})
    if today.month >= 11 and calendar.is_provisional_year(today.year + 1):
        warnings.append({"key": N_("calendar_next_year_missing"), "year": today.year + 1})
    return warnings


# ------------------------------------------------------------------ writing


def _insert_ignoring_conflicts(session: Session, model: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING: two seeders at once must not fail.

    Counts the rows really inserted with RETURNING: with psycopg 3 and SQLAlchemy
    2.1 `rowcount` of a compiled INSERT is -1.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    key = next(iter(table.primary_key.columns))
    stmt = insert(table).values(rows).on_conflict_do_nothing().returning(key)
    return len(session.execute(stmt).all())


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def seed_from_package(session: Session, clock: Clock, settings: Settings | None = None) -> int:
    """Store every year the `chinese-calendar` package covers that is not loaded yet.

    Idempotent and safe on two workers at once; a year already in calendar_year
    (seeded before, or loaded by an admin) is left alone.  Returns rows added
    (calendar_day + calendar_year).  Provisional deadlines in newly seeded years
    are recomputed (this matters after upgrading the package).
    """
    now = clock.now()
    source = sources.package_source()
    loaded = set(session.scalars(select(CalendarYear.year)))  # type: ignore[call-overload]
    added = 0
    seeded: list[int] = []
    for year in sources.package_years():
        days = sources.package_special_days(year)
        if year in loaded or days is None:
            continue
        claimed = _insert_ignoring_conflicts(
            session, CalendarYear, [{"year": year, "source": source, "loaded_at": now}]
        )
        if not claimed:
            continue  # another seeder got there first
        first, last = _year_bounds(year)
        session.execute(delete(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))  # type: ignore[arg-type]
        rows = [{"day": d, "is_working": w, "name": n[:NAME_MAX]} for d, (w, n) in days.items()]
        added += claimed + _insert_ignoring_conflicts(session, CalendarDay, rows)
        seeded.append(year)
    session.flush()
    forget_cached_calendars()
    if seeded:
        events.record(session, clock, None, "calendar", seeded[0], "calendar_seeded",
                      after={"source": source, "years": seeded, "rows": added})
        recompute_provisional_deadlines(session, clock, None, seeded, settings)
    return added


def _parse_days(year: int, field_name: str, items: Sequence[DayInput]) -> dict[date, tuple[str, int]]:
    out: dict[date, tuple[str, int]] = {}
    for i, item in enumerate(items):
        day, name = item if isinstance(item, tuple) else (item, "")
        if isinstance(day, datetime) or not isinstance(day, date):
            raise Invalid(f"{field_name}.{i}", "field_invalid")
        if day.year != year:
            raise Invalid(f"{field_name}.{i}", "calendar_date_outside_year", date=day.isoformat(), year=year)
        name = (name or "").strip()
        if len(name) > NAME_MAX:
            raise Invalid(f"{field_name}.{i}.name", "field_too_long", max=NAME_MAX)
        out[day] = (name, i)
    return out


def load_official_year(
    session: Session,
    clock: Clock,
    actor: Actor,
    year: int,
    holidays: list[DayInput],
    workdays: list[DayInput],
    source: str,
    *,
    settings: Settings | None = None,
) -> RecomputeResult:
    """An admin loads a year's official schedule (replacing what was there).

    `holidays` and `workdays` may list every day of the notice; only the days
    that differ from Mon–Fri are stored (a Saturday holiday changes nothing).
    Then every provisional deadline that counts a day of this year is recomputed.
    """
    require_admin(actor)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid("year", "field_out_of_range")
    off = _parse_days(year, "holidays", holidays)
    on = _parse_days(year, "workdays", workdays)
    for day, (_name, i) in on.items():
        if day in off:
            raise Invalid(f"workdays.{i}", "calendar_day_conflict", date=day.isoformat())
    source = (source or ADMIN_SOURCE)[:64]

    existing = session.get(CalendarYear, year)
    before = {"source": existing.source if existing else None, "official": existing is not None}
    first, last = _year_bounds(year)
    session.execute(delete(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))  # type: ignore[arg-type]
    stored = [
        CalendarDay(day=day, is_working=working, name=name)
        for working, days in ((False, off), (True, on))
        for day, (name, _i) in days.items()
        if differs_from_weekly_rule(day, working)
    ]
    session.add_all(stored)
    now = clock.now()
    if existing is None:
        session.add(CalendarYear(year=year, source=source, loaded_at=now))
    else:
        existing.source, existing.loaded_at = source, now
    session.flush()
    forget_cached_calendars()

    result = RecomputeResult(year=year)
    result.holidays = sum(1 for d in stored if not d.is_working)
    result.workdays = sum(1 for d in stored if d.is_working)
    events.record(
        session, clock, audit_user(actor), "calendar", year, "calendar_loaded", before=before,
        after={"source": source, "official": True,
               "holidays": sorted(d.day for d in stored if not d.is_working),
               "workdays": sorted(d.day for d in stored if d.is_working)},
    )
    checked, changed, still = recompute_provisional_deadlines(session, clock, audit_user(actor), [year], settings)
    result.checked, result.recomputed, result.still_provisional = checked, len(changed), still
    result.assignment_ids = changed
    return result


# ------------------------------------------------------------------ recompute


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _approved_extensions(session: Session, ids: list[int]) -> dict[int, list[ExtensionRequest]]:
    """Approved extensions that moved the due date, in the order they were granted."""
    out: dict[int, list[ExtensionRequest]] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(ExtensionRequest)
            .where(
                ExtensionRequest.assignment_id.in_(chunk),  # type: ignore[attr-defined]
                ExtensionRequest.state == ExtensionState.APPROVED,  # type: ignore[arg-type]
                # An approval given while the assignment was no longer open moved nothing.
                ExtensionRequest.new_due_at.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(ExtensionRequest.decided_at, ExtensionRequest.id)  # type: ignore[arg-type]
        )
        for ext in session.scalars(stmt):
            out.setdefault(ext.assignment_id, []).append(ext)
    return out


def recompute_provisional_deadlines(
    session: Session,
    clock: Clock,
    actor: User | None,
    years: Iterable[int],
    settings: Settings | None = None,
) -> tuple[int, list[int], int]:
    """Recompute provisional assignments whose deadlines count a day in `years`.

    Returns (checked, ids of changed assignments, how many are still provisional).
    Only rows flagged provisional are read, so this stays cheap on a large table.
    """
    settings = settings or get_settings()
    calendar = working_calendar(session, settings)
    spans = []
    for year in sorted(set(years)):
        start = datetime(year, 1, 1, tzinfo=settings.tz).astimezone(UTC)
        end = datetime(year + 1, 1, 1, tzinfo=settings.tz).astimezone(UTC)
        spans.append(
            and_(
                Assignment.dispatched_at < end,  # type: ignore[arg-type]
                or_(
                    Assignment.feedback_due_at >= start,  # type: ignore[arg-type]
                    Assignment.original_feedback_due_at >= start,  # type: ignore[arg-type]
                    Assignment.acceptance_due_at >= start,  # type: ignore[arg-type]
                ),
            )
        )
    if not spans:
        return 0, [], 0
    rows = list(
        session.scalars(
            select(Assignment)
            .where(Assignment.due_provisional == True, or_(*spans))  # type: ignore[arg-type]  # noqa: E712
            .order_by(Assignment.id)  # type: ignore[arg-type]
        )
    )
    extensions = _approved_extensions(session, [a.id for a in rows if a.id is not None])
    now = clock.now()
    changed: list[int] = []
    still = 0
    for a in rows:
        acceptance = calendar.add_working_days(a.dispatched_at, settings.acceptance_working_days)
        original = calendar.add_working_days(a.dispatched_at, a.working_days)
        due, granted, provisional = original, 0, acceptance.provisional or original.provisional
        for ext in extensions.get(a.id or 0, []):
            granted += ext.extra_working_days
            due = calendar.add_working_days(original.at, granted)
            provisional = provisional or due.provisional
            ext.new_due_at = due.at
        before, after = events.diff(a, {
            "acceptance_due_at": acceptance.at,
            "original_feedback_due_at": original.at,
            "feedback_due_at": due.at,
            "due_provisional": provisional,
        })
        still += provisional
        if not after:
            continue
        for name, value in after.items():
            setattr(a, name, value)
        a.version += 1
        a.updated_at = now
        events.record(session, clock, actor, "assignment", a.id, "deadline_recomputed",
                      case_id=a.case_id, before=before, after=after)
        changed.append(a.id or 0)
    session.flush()
    return len(rows), changed, still
