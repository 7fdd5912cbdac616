"""`gongzhi demo`: a city's worth of data, loaded once, only in demo mode, mailing nothing old, with past summaries."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from shared.assignments.models import Assignment, AssignmentState
from shared.cases.models import Case
from shared.demo import CAMPAIGN, load_demo
from shared.departments.models import Department
from shared.feedback.models import Feedback, SignoffDecision
from shared.outbox.models import OutboxMessage, OutboxState
from shared.reminders.models import ReminderNotice
from shared.reports import delivery
from shared.reports.archive import ALL
from shared.reports.archive_models import WeeklyReportRecord
from shared.settings import get_settings
from shared.users.models import Role, User


@pytest.fixture
def demo_mode(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GONGZHI_DEMO", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_demo_loads_once_with_every_role_and_varied_states(session: Session, clock, demo_mode) -> None:  # type: ignore[no-untyped-def]
    summary = load_demo(session, clock)
    session.commit()
    assert summary.created and summary.cases == 40
    roles = set(session.scalars(select(User.role)))
    assert roles == set(Role)
    states = set(session.scalars(select(Assignment.state)))
    assert {AssignmentState.DISPATCHED, AssignmentState.ACCEPTED, AssignmentState.DONE} <= states
    # A department with sign-off on (审签): its head has signed feedback off before review.
    assert session.scalar(select(Department.code).where(col(Department.signoff_required).is_(True))) == "WJW"
    signed = col(Feedback.signoff_decision) == SignoffDecision.SIGNED_OFF
    assert session.scalar(select(func.count()).select_from(Feedback).where(signed))
    overdue = session.scalar(select(func.count()).select_from(Assignment).where(
        col(Assignment.state).in_([AssignmentState.DISPATCHED, AssignmentState.ACCEPTED]),
        col(Assignment.feedback_due_at) < clock.now()))
    assert overdue and overdue > 0
    assert session.scalar(select(func.count()).select_from(Case).where(col(Case.campaign_id).is_not(None)))
    # The history's notices are settled: the first reminder pass does not mail weeks-old news.
    assert not session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(col(OutboxMessage.state) == OutboxState.PENDING))
    assert not session.scalar(select(func.count()).select_from(ReminderNotice)
                              .where(col(ReminderNotice.digest_key).is_(None)))
    # A leader trying the demo on a Tuesday finds last Monday's summary in the archive (往期周报), shown
    # as sent to each recipient at 08:00 that Monday (none reaches the mail catcher: nothing pending).
    assert summary.summaries == 1
    archived = session.scalars(select(WeeklyReportRecord.week).where(
        col(WeeklyReportRecord.scope) == ALL, col(WeeklyReportRecord.delivered_at).is_not(None))
        .order_by(col(WeeklyReportRecord.week))).all()
    assert archived == ["2026-W48"]
    sent = session.execute(select(OutboxMessage.state, OutboxMessage.sent_at)
                           .where(col(OutboxMessage.kind) == delivery.KIND)).all()
    assert sent and {state for state, _ in sent} == {OutboxState.SENT}
    assert {at.astimezone(get_settings().tz).strftime("%a %H:%M") for _, at in sent} == {"Mon 08:00"}
    # The beat, firing now, sends none of them again.
    run = delivery.run_scheduled(session, now=clock.now(), settings=get_settings())
    assert run.skipped == {"2026-W48": "delivered"} and run.weeks == []
    again = load_demo(session, clock)
    assert not again.created
    assert session.scalar(select(func.count()).select_from(Case)) == 40
    from shared.campaigns.models import Campaign

    assert session.scalar(select(Campaign.name)) == CAMPAIGN


def test_demo_is_refused_outside_demo_mode(session: Session, clock, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GONGZHI_DEMO", "0")
    monkeypatch.setenv("GONGZHI_SECRET_KEY", "a-real-secret-for-this-test")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="demo mode"):
            load_demo(session, clock)
    finally:
        get_settings.cache_clear()


def test_demo_people_act_in_office_hours_on_working_days(session: Session, clock, demo_mode) -> None:  # type: ignore[no-untyped-def]
    """Nobody dispatches at 01:09 or accepts on a Saturday: every act of the history is in office hours."""
    from shared.calendar.service import working_calendar
    from shared.callbacks.models import Callback
    from shared.events.models import Event
    from shared.settings import get_settings

    load_demo(session, clock)
    session.commit()
    tz, calendar = get_settings().tz, working_calendar(session)
    acts = session.scalars(select(Event.at).where(col(Event.object_type).in_(["assignment", "case", "callback"]))
                           ).all()
    assert len(acts) > 100
    odd = [at.astimezone(tz) for at in acts
           if not calendar.is_working_day(at.astimezone(tz).date())
           or not (time(9) <= at.astimezone(tz).time() < time(17, 30))
           or time(12) <= at.astimezone(tz).time() < time(13, 30)]
    assert odd == []
    reached = session.scalars(select(Callback.satisfaction).where(col(Callback.reached))).all()
    assert reached and None not in reached


def test_loaded_on_monday_before_the_send_time_last_week_is_left_to_the_beat(session: Session, demo_mode) -> None:  # type: ignore[no-untyped-def]
    """Loaded at 07:00 on a Monday: last week's summary goes out for real at 08:00, not as history."""
    from datetime import UTC, datetime

    from shared.clock import FrozenClock

    early = FrozenClock(datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # Monday 2026-11-30 07:00 in Shanghai
    assert load_demo(session, early).summaries == 0
    session.commit()
    at_eight = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    run = delivery.run_scheduled(session, now=at_eight, settings=get_settings())
    session.commit()
    assert [w.week for w in run.weeks] == ["2026-W48"] and run.weeks[0].queued > 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(col(OutboxMessage.state) == OutboxState.PENDING)) == run.weeks[0].queued
