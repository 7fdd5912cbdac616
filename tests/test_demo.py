"""`gongzhi demo`: a city's worth of data, loaded once, only in demo mode, mailing nothing old."""

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
