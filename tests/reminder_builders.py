"""Rows for the reminder and notification tests, written straight through the ORM.

Deadlines come from the real working calendar, as the assignment service sets
them; state changes are set directly (the point here is who gets told what).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from shared.assignments.models import Assignment, AssignmentState, ExtensionRequest
from shared.calendar.service import working_calendar
from shared.cases.models import Case, CaseSource
from shared.clock import FrozenClock
from shared.outbox.models import OutboxMessage
from shared.settings import Settings
from shared.users.models import Role, User
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def make_case(session: Session, coordinator: User, *, title: str = "某健身连锁店预付卡退费投诉",
              at: datetime | None = None) -> Case:
    n = next(_numbers)
    at = at or datetime(2026, 9, 1, tzinfo=UTC)
    case = Case(
        reference=f"GZ-2026-{n:06d}", title=title, source=CaseSource.HOTLINE_12315, category="prepaid",
        lead_department_id=coordinator.department_id, coordinator_id=coordinator.id,  # type: ignore[arg-type]
        created_at=at, updated_at=at,
    )
    session.add(case)
    session.flush()
    return case


def make_assignment(session: Session, case: Case, department_id: int, dispatcher: User, *,
                    at: datetime, working_days: int = 5, acceptance_days: int = 1,
                    state: AssignmentState = AssignmentState.DISPATCHED,
                    assignee: User | None = None) -> Assignment:
    cal = working_calendar(session)
    due = cal.add_working_days(at, working_days)
    a = Assignment(
        case_id=case.id, department_id=department_id, dispatched_by=dispatcher.id,  # type: ignore[arg-type]
        assignee_id=assignee.id if assignee else None,
        dispatched_at=at, acceptance_due_at=cal.add_working_days(at, acceptance_days).at,
        feedback_due_at=due.at, original_feedback_due_at=due.at, working_days=working_days,
        state=state, updated_at=at, accepted_at=at if state == AssignmentState.ACCEPTED else None,
    )
    session.add(a)
    session.flush()
    return a


def set_state(session: Session, a: Assignment, state: AssignmentState, at: datetime) -> None:
    a.state = state
    a.version += 1
    a.updated_at = at
    if state == AssignmentState.ACCEPTED and a.accepted_at is None:
        a.accepted_at = at
    session.add(a)
    session.flush()


def request_extension(session: Session, a: Assignment, by: User, at: datetime, days: int = 3,
                      reason: str = "涉及外省企业，需协查") -> ExtensionRequest:
    ext = ExtensionRequest(assignment_id=a.id, requested_by=by.id, requested_at=at,  # type: ignore[arg-type]
                           extra_working_days=days, reason=reason)
    session.add(ext)
    a.version += 1
    session.flush()
    return ext


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    kind: str


def outbox_rows(session: Session, after_id: int = 0) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > after_id).order_by(OutboxMessage.id)  # type: ignore[arg-type,operator]
    ))


def last_outbox_id(session: Session) -> int:
    rows = outbox_rows(session)
    return rows[-1].id if rows else 0  # type: ignore[return-value]


def mails(session: Session, after_id: int = 0) -> list[Mail]:
    return [Mail(m.to_address, m.subject, m.kind) for m in outbox_rows(session, after_id)]


def user_of(email: str) -> str:
    return email.split("@", 1)[0]


class Day:
    """Run the pass at a local time and collect (username, subject) of the mail it queued."""

    def __init__(self, session: Session, clock: FrozenClock, settings: Settings | None = None) -> None:
        self.session, self.clock, self.settings = session, clock, settings

    def run(self, when: datetime) -> list[tuple[str, str]]:
        from shared.reminders.service import run_pass

        self.clock.set(when)
        before = last_outbox_id(self.session)
        run_pass(self.session, self.clock, self.settings)
        self.session.commit()
        return sorted((user_of(m.to), m.subject) for m in mails(self.session, before))


def add_user(session: Session, world: World, username: str, code: str = "SWJ", role: Role = Role.LIAISON,
             **fields: object) -> User:
    """One more member of department CODE (preferences and the like in FIELDS)."""
    template = world.liaison(code)
    user = User(username=username, name="钱联络", email=f"{username}@gov.example",
                department_id=world.dept(code).id, role=role, password_hash=template.password_hash,
                created_at=template.created_at, **fields)  # type: ignore[arg-type]
    session.add(user)
    session.flush()
    return user
