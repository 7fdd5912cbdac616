"""Who hears a deadline reminder: the department's liaisons until it is accepted, then its owner."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from shared.assignments.models import AssignmentState
from shared.clock import FrozenClock
from shared.reminders.models import ReminderNotice
from shared.settings import Settings
from shared.users.models import User
from tests.factories import World
from tests.reminder_builders import Day, add_user, local, make_assignment, make_case, outbox_rows

# Dispatched Thu 10-08 with 1 working day: due Fri 10-09 17:30; on Tue 10-13 it is
# three working days overdue (10-10 make-up Saturday, 10-12, 10-13).
DISPATCHED = local(2026, 10, 8, 9)
PASS = local(2026, 10, 13, 9)
TITLE = "某超市销售过期食品"


def _overdue(session: Session, world: World, state: AssignmentState, assignee: User | None = None) -> str:
    case = make_case(session, world.coordinator, title=TITLE)
    make_assignment(session, case, world.dept("SWJ").id, world.coordinator, at=DISPATCHED, working_days=1,
                    state=state, assignee=assignee)
    session.commit()
    return case.reference


def test_accepted_assignment_reminds_its_assignee_only(
    session: Session, clock: FrozenClock, world: World
) -> None:
    owner = add_user(session, world, "liaison2_swj")
    ref = _overdue(session, world, AssignmentState.ACCEPTED, assignee=owner)
    assert Day(session, clock).run(PASS) == [
        ("coordinator", f"【督办】{ref} {TITLE}：已逾期 3 个工作日"),
        ("head_swj", f"【督办】{ref} {TITLE}：已逾期 3 个工作日"),
        ("liaison2_swj", f"【逾期】{ref} {TITLE}：已逾期 3 个工作日"),
    ]


def test_not_yet_accepted_reminds_every_liaison(session: Session, clock: FrozenClock, world: World) -> None:
    add_user(session, world, "liaison2_swj")
    ref = _overdue(session, world, AssignmentState.DISPATCHED)
    sent = dict(Day(session, clock).run(PASS))
    assert sent["liaison_swj"] == sent["liaison2_swj"] == f"【逾期】{ref} {TITLE}：已逾期 3 个工作日"
    assert sent["head_swj"] == sent["coordinator"] == f"【督办】{ref} {TITLE}：已逾期 3 个工作日"


def test_accepted_without_an_active_assignee_falls_back_to_the_liaisons(
    session: Session, clock: FrozenClock, world: World
) -> None:
    owner = add_user(session, world, "liaison2_swj")
    owner.active = False
    gone = _overdue(session, world, AssignmentState.ACCEPTED, assignee=owner)
    nobody = _overdue(session, world, AssignmentState.ACCEPTED)
    sent = dict(Day(session, clock).run(PASS))
    assert "liaison2_swj" not in sent
    assert sent["liaison_swj"] == "【逾期】2 项任务已逾期"
    digest = next(m for m in outbox_rows(session) if m.to_address == "liaison_swj@gov.example")
    assert gone in digest.body_text and nobody in digest.body_text


def test_a_department_is_told_once_each_member_in_his_own_digest(
    session: Session, clock: FrozenClock, world: World
) -> None:
    """A department of many liaisons: one notice for the department, one email per liaison who wants it."""
    for n in range(3, 9):
        add_user(session, world, f"liaison{n}_swj")
    quiet = add_user(session, world, "liaison9_swj", notify_opt_out=["overdue"])
    ref = _overdue(session, world, AssignmentState.DISPATCHED)
    day = Day(session, clock)
    sent = dict(day.run(PASS))
    liaisons = {f"liaison{n}_swj" for n in range(3, 9)} | {"liaison_swj"}
    assert {who for who in sent if who.startswith("liaison")} == liaisons, "the one who opted out is spared"
    assert {sent[who] for who in liaisons} == {f"【逾期】{ref} {TITLE}：已逾期 3 个工作日"}
    rows = session.execute(select(ReminderNotice.kind, ReminderNotice.recipient_id, ReminderNotice.department_id,
                                  ReminderNotice.audience)).all()
    swj = world.dept("SWJ").id
    assert sorted(rows, key=str) == sorted([
        ("overdue", None, swj, "liaisons"),  # one row for seven liaisons
        ("escalation", None, swj, "heads"),
        ("escalation", world.coordinator.id, None, None),
    ], key=str)
    assert quiet.id not in {r.recipient_id for r in rows}

    # Someone joins the department later that day: the department was told today already.
    add_user(session, world, "liaison10_swj")
    session.commit()
    assert day.run(local(2026, 10, 13, 11)) == []
    # The next working day everyone hears it again, the newcomer included.
    again = dict(day.run(local(2026, 10, 14, 9)))
    assert "liaison10_swj" in again and "liaison9_swj" not in again


def test_the_ladder_is_configured_in_working_days(session: Session, clock: FrozenClock, world: World) -> None:
    """GONGZHI_REMINDER_*: here 催办 from the 1st overdue working day and 督办 from the 2nd."""
    ref = _overdue(session, world, AssignmentState.DISPATCHED)
    settings = Settings(demo=True, database_url="sqlite://", reminder_escalate_after_working_days=2)
    # Mon 10-12 is the 2nd working day after the due day (make-up Saturday 10-10 counts).
    sent = dict(Day(session, clock, settings).run(local(2026, 10, 12, 9)))
    assert sent["head_swj"] == sent["coordinator"] == f"【督办】{ref} {TITLE}：已逾期 2 个工作日"
    with pytest.raises(ValidationError, match="督办 comes after 催办"):
        Settings(demo=True, reminder_urge_after_working_days=3, reminder_escalate_after_working_days=3)
    with pytest.raises(ValidationError, match="reminder_due_soon_working_days"):
        Settings(demo=True, reminder_due_soon_working_days=0)
