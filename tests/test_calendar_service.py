"""The calendar in the database: seeding, loading a year, recomputing provisional deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from shared.actors import SYSTEM
from shared.assignments.models import Assignment, ExtensionRequest, ExtensionState
from shared.calendar import service
from shared.calendar.models import CalendarDay, CalendarYear
from shared.cases.models import Case, CaseSource
from shared.clock import FrozenClock
from shared.errors import Forbidden, Invalid
from shared.events.models import Event
from shared.settings import Settings
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")

# An official 2027 schedule as an admin would type it from the November notice
# (invented for the test: the real one is not published yet).
HOLIDAYS_2027 = [(date(2027, 1, 1), "元旦")] + [
    (date(2027, 2, 5) + timedelta(days=i), "春节") for i in range(9)  # 2/5 – 2/13, weekends included
]
WORKDAYS_2027 = [(date(2027, 2, 20), "春节调休")]


def local(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI).astimezone(UTC)


def cob(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 17, 30, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def case(session: Session, world: World, clock: FrozenClock) -> Case:
    c = Case(
        reference="GZ-2026-000001", title="某健身连锁预付卡投诉", source=CaseSource.HOTLINE_12315,
        category="prepaid", lead_department_id=world.dept("SCJG").id, coordinator_id=world.coordinator.id,
        created_at=clock.now(), updated_at=clock.now(),
    )
    session.add(c)
    session.commit()
    return c


@pytest.fixture
def dispatch(session: Session, world: World, case: Case, settings: Settings):  # type: ignore[no-untyped-def]
    """An assignment with deadlines computed the way dispatch computes them."""

    def make(at: datetime, working_days: int, extensions: tuple[int, ...] = ()) -> Assignment:
        calendar = service.working_calendar(session, settings)
        acceptance = calendar.add_working_days(at, settings.acceptance_working_days)
        feedback = calendar.add_working_days(at, working_days)
        a = Assignment(
            case_id=case.id, department_id=world.dept("TYJ").id, dispatched_by=world.coordinator.id,
            dispatched_at=at, acceptance_due_at=acceptance.at, feedback_due_at=feedback.at,
            original_feedback_due_at=feedback.at, working_days=working_days,
            due_provisional=acceptance.provisional or feedback.provisional, updated_at=at,
        )
        session.add(a)
        session.flush()
        for i, extra in enumerate(extensions):
            due = calendar.add_working_days(a.feedback_due_at, extra)
            session.add(ExtensionRequest(
                assignment_id=a.id, requested_by=world.liaison("TYJ").id, requested_at=at,
                extra_working_days=extra, reason="需要补充检查", state=ExtensionState.APPROVED,
                decided_by=world.head("TYJ").id, decided_at=at + timedelta(minutes=i + 1), new_due_at=due.at,
            ))
            a.feedback_due_at = due.at
            a.due_provisional = a.due_provisional or due.provisional
        # Pending and denied requests never move a deadline.
        session.add(ExtensionRequest(
            assignment_id=a.id, requested_by=world.liaison("TYJ").id, requested_at=at,
            extra_working_days=20, reason="再延", state=ExtensionState.DENIED,
        ))
        session.commit()
        return a

    return make


# ------------------------------------------------------------------ seeding


def test_seed_stores_the_package_years_once(session: Session, clock: FrozenClock) -> None:
    added = service.seed_from_package(session, clock)
    session.commit()
    years = session.scalars(select(CalendarYear)).all()
    assert [y.year for y in years] == list(range(2004, 2027))
    assert years[-1].source.startswith("chinese-calendar ")
    days = {d.day: d for d in session.scalars(select(CalendarDay))}
    assert added == len(days) + len(years)
    assert days[date(2026, 2, 16)].is_working is False and days[date(2026, 2, 16)].name == "春节"
    assert days[date(2026, 2, 14)].is_working is True and days[date(2026, 2, 14)].name == "春节调休"
    assert date(2026, 2, 15) not in days  # a Sunday holiday does not differ from Mon–Fri
    assert all(d.is_working != (d.day.weekday() < 5) for d in days.values())

    assert service.seed_from_package(session, clock) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(CalendarDay)) == len(days)


def test_seed_leaves_an_admin_loaded_year_alone(session: Session, clock: FrozenClock, world: World) -> None:
    service.load_official_year(session, clock, world.admin, 2026, [date(2026, 3, 3)], [], "admin")
    service.seed_from_package(session, clock)
    session.commit()
    assert session.get(CalendarYear, 2026).source == "admin"  # type: ignore[union-attr]
    calendar = service.working_calendar(session)
    assert not calendar.is_working_day(date(2026, 3, 3))
    assert calendar.is_working_day(date(2026, 2, 16))  # the admin's 2026 replaced the package's


def test_a_fresh_database_still_counts_2026_from_the_package(session: Session) -> None:
    calendar = service.working_calendar(session)
    assert calendar.is_working_day(date(2026, 2, 14))
    assert not calendar.is_working_day(date(2026, 2, 16))
    assert not calendar.is_provisional_year(2026) and calendar.is_provisional_year(2027)
    view = service.year_view(session, 2026)
    assert view.official and not view.loaded and view.source and view.source.startswith("chinese-calendar")


# ------------------------------------------------------------------ loading a year


def test_loading_2027_recomputes_provisional_deadlines(
    session: Session, clock: FrozenClock, world: World, dispatch, settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    new_year = dispatch(local(2026, 12, 24), 10)  # into 2027: provisional, Jan 1 skipped
    festival = dispatch(local(2027, 2, 1), 5, extensions=(1, 2))  # over 春节 with 1 + 2 days granted
    settled = dispatch(local(2026, 12, 1), 5)  # all in 2026: not provisional
    later = dispatch(local(2028, 3, 1), 5)  # only 2028: not touched by loading 2027
    into_2028 = dispatch(local(2027, 12, 28), 10)  # touches 2027 but stays provisional
    assert new_year.due_provisional and new_year.feedback_due_at == cob(2027, 1, 8)
    # Provisional 2027: 除夕 2/5 and 初三 2/8 off → 2/2, 2/3, 2/4, 2/9, 2/10; then +3 → 2/11, 2/12, 2/15.
    assert festival.original_feedback_due_at == cob(2027, 2, 10)
    assert festival.feedback_due_at == cob(2027, 2, 15)
    assert not settled.due_provisional
    versions = {a.id: a.version for a in (new_year, festival, settled, later, into_2028)}

    clock.set(datetime(2026, 11, 20, 2, tzinfo=UTC))
    result = service.load_official_year(
        session, clock, world.admin, 2027, HOLIDAYS_2027, WORKDAYS_2027, "admin", settings=settings
    )
    session.commit()

    assert (result.holidays, result.workdays) == (7, 1)  # 1/1 + 6 weekdays of 春节; Sat 2/20
    assert result.checked == 3
    assert sorted(result.assignment_ids) == sorted([new_year.id, festival.id])
    assert result.recomputed == 2 and result.still_provisional == 1

    for a in (new_year, festival, settled, later, into_2028):
        session.refresh(a)
    assert new_year.feedback_due_at == cob(2027, 1, 8) and not new_year.due_provisional
    assert new_year.version == versions[new_year.id] + 1
    # Official: 2/2, 2/3, 2/4, then 2/5–2/13 off → 2/15, 2/16 (5); granted 3 → 2/17, 2/18, 2/19.
    assert festival.acceptance_due_at == cob(2027, 2, 2)
    assert festival.original_feedback_due_at == cob(2027, 2, 16)
    assert festival.feedback_due_at == cob(2027, 2, 19)
    assert not festival.due_provisional
    assert festival.updated_at == clock.now()
    granted = session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.assignment_id == festival.id,  # type: ignore[arg-type]
                                       ExtensionRequest.state == ExtensionState.APPROVED)  # type: ignore[arg-type]
        .order_by(ExtensionRequest.id)  # type: ignore[arg-type]
    ).all()
    assert [e.new_due_at for e in granted] == [cob(2027, 2, 17), cob(2027, 2, 19)]
    for unchanged in (settled, later, into_2028):
        assert unchanged.version == versions[unchanged.id]
    assert later.due_provisional and into_2028.due_provisional

    events = session.scalars(
        select(Event).where(Event.action == "deadline_recomputed").order_by(Event.object_id)  # type: ignore[arg-type]
    ).all()
    assert [(e.object_type, e.object_id, e.case_id, e.actor_id) for e in events] == [
        ("assignment", a.id, a.case_id, world.admin.id)
        for a in sorted((new_year, festival), key=lambda a: a.id)
    ]
    by_id = {e.object_id: e for e in events}
    assert by_id[new_year.id].before == {"due_provisional": True}
    assert by_id[new_year.id].after == {"due_provisional": False}
    assert by_id[festival.id].after["feedback_due_at"] == cob(2027, 2, 19).isoformat()  # type: ignore[index]
    loaded = session.scalars(select(Event).where(Event.action == "calendar_loaded")).one()
    assert (loaded.object_type, loaded.object_id) == ("calendar", 2027)

    # Loading the same schedule again changes nothing more.
    again = service.load_official_year(
        session, clock, world.admin, 2027, HOLIDAYS_2027, WORKDAYS_2027, "admin", settings=settings
    )
    assert again.checked == 1 and again.recomputed == 0


def test_recompute_reads_extensions_in_chunks(
    session: Session, clock: FrozenClock, world: World, dispatch, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setattr(service, "_CHUNK", 2)
    made = [dispatch(local(2027, 2, 1), 5, extensions=(i,)) for i in (1, 2, 3)]
    result = service.load_official_year(
        session, clock, world.admin, 2027, HOLIDAYS_2027, WORKDAYS_2027, "admin"
    )
    session.commit()
    assert result.recomputed == 3
    for a in made:
        session.refresh(a)
    # From the official 2/16: +1 → 2/17, +2 → 2/18, +3 → 2/19.
    assert [a.feedback_due_at for a in made] == [cob(2027, 2, 17), cob(2027, 2, 18), cob(2027, 2, 19)]


def test_loading_replaces_the_year(session: Session, clock: FrozenClock, world: World) -> None:
    service.load_official_year(session, clock, world.admin, 2027, HOLIDAYS_2027, WORKDAYS_2027, "admin")
    service.load_official_year(session, clock, world.admin, 2027, [date(2027, 3, 1)], [], "admin")
    session.commit()
    view = service.year_view(session, 2027)
    assert view.official and view.loaded and view.source == "admin"
    assert [(d.day, d.is_working) for d in view.days] == [(date(2027, 3, 1), False)]


def test_only_admins_load_a_schedule(session: Session, clock: FrozenClock, world: World) -> None:
    for user in (world.liaison("SCJG"), world.coordinator, world.leader, world.head("SCJG")):
        with pytest.raises(Forbidden):
            service.load_official_year(session, clock, user, 2027, HOLIDAYS_2027, [], "admin")


def test_dates_must_belong_to_the_year(session: Session, clock: FrozenClock, world: World) -> None:
    with pytest.raises(Invalid) as err:
        service.load_official_year(
            session, clock, world.admin, 2027, [date(2027, 1, 1), date(2028, 1, 3)], [], "admin"
        )
    assert err.value.field == "holidays.1" and err.value.key == "calendar_date_outside_year"
    with pytest.raises(Invalid) as err:
        service.load_official_year(
            session, clock, world.admin, 2027, [date(2027, 2, 20)], [date(2027, 2, 20)], "admin"
        )
    assert err.value.field == "workdays.0" and err.value.key == "calendar_day_conflict"


# ------------------------------------------------------------------ warnings


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 10, 15, 2, tzinfo=UTC), []),
        (datetime(2026, 10, 31, 15, 59, tzinfo=UTC), []),  # 23:59 on Oct 31 in Shanghai
        (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), [("calendar_next_year_missing", 2027)]),  # Nov 1
        (datetime(2026, 12, 31, 2, tzinfo=UTC), [("calendar_next_year_missing", 2027)]),
        (datetime(2027, 3, 1, 2, tzinfo=UTC), [("calendar_year_missing", 2027)]),
        (datetime(2027, 11, 5, 2, tzinfo=UTC),
         [("calendar_year_missing", 2027), ("calendar_next_year_missing", 2028)]),
    ],
)
def test_warnings_about_missing_schedules(
    session: Session, now: datetime, expected: list[tuple[str, int]]
) -> None:
    warnings = service.calendar_warnings(session, FrozenClock(now), SYSTEM)
    assert [(w["key"], w["year"]) for w in warnings] == expected


def test_loading_next_year_silences_the_warning(session: Session, clock: FrozenClock, world: World) -> None:
    clock.set(datetime(2026, 11, 20, 2, tzinfo=UTC))
    assert service.calendar_warnings(session, clock, SYSTEM)
    service.load_official_year(session, clock, world.admin, 2027, HOLIDAYS_2027, WORKDAYS_2027, "admin")
    session.commit()
    assert service.calendar_warnings(session, clock, SYSTEM) == []
    clock.set(datetime(2027, 11, 2, 2, tzinfo=UTC))
    assert [w["key"] for w in service.calendar_warnings(session, clock, SYSTEM)] == ["calendar_next_year_missing"]
