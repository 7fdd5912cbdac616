"""Per-user preferences: immediate single emails, opt-outs (never for 督办), language."""

from __future__ import annotations

from sqlmodel import Session

from shared.clock import FrozenClock
from shared.notifications.service import on_assignment_event
from shared.reminders import rules
from shared.users.models import NotifyMode
from tests.factories import World
from tests.reminder_builders import Day, add_user, local, make_assignment, make_case

# Dispatched Thu 10-08 with 1 working day: due Fri 10-09 17:30; on Tue 10-13 it is
# three working days overdue (10-10 make-up Saturday, 10-12, 10-13).
DISPATCHED = local(2026, 10, 8, 9)
PASS = local(2026, 10, 13, 9)


def _overdue_pair(session: Session, world: World, code: str = "SWJ") -> list[str]:
    refs = []
    for title in ("某超市销售过期食品", "某电商平台虚假促销"):
        case = make_case(session, world.coordinator, title=title)
        make_assignment(session, case, world.dept(code).id, world.coordinator, at=DISPATCHED, working_days=1)
        refs.append(case.reference)
    return refs


def test_immediate_user_still_gets_one_reminder_digest_per_pass(
    session: Session, clock: FrozenClock, world: World
) -> None:
    # "Immediate" is for events; reminders are one email per person per pass regardless.
    world.liaison("SWJ").notify_mode = NotifyMode.IMMEDIATE
    _overdue_pair(session, world)
    session.commit()
    sent = Day(session, clock).run(PASS)
    mine = [subject for user, subject in sent if user == "liaison_swj"]
    assert mine == ["【逾期】2 项任务已逾期"]
    # The head keeps the default: one digest for both.
    assert ("head_swj", "【督办】2 项任务逾期 3 个工作日以上") in sent


def test_opt_out_is_honoured_except_for_escalation(
    session: Session, clock: FrozenClock, world: World
) -> None:
    # The head tries to turn everything off, 督办 included; a second liaison turns off 逾期.
    world.head("SWJ").notify_opt_out = list(rules.OPTIONAL_KINDS) + ["escalation"]
    add_user(session, world, "liaison2_swj", notify_opt_out=["overdue"])
    _overdue_pair(session, world)
    session.commit()
    sent = dict(Day(session, clock).run(PASS))
    assert sent["head_swj"] == "【督办】2 项任务逾期 3 个工作日以上"
    assert sent["liaison_swj"] == "【逾期】2 项任务已逾期"
    assert "liaison2_swj" not in sent


def test_opted_out_of_urge_head_still_gets_escalation_later(
    session: Session, clock: FrozenClock, world: World
) -> None:
    world.head("SWJ").notify_opt_out = ["urge"]
    _overdue_pair(session, world)
    session.commit()
    day = Day(session, clock)
    assert "head_swj" not in dict(day.run(local(2026, 10, 12, 9)))  # 2 days overdue: 催办 only
    assert dict(day.run(PASS))["head_swj"] == "【督办】2 项任务逾期 3 个工作日以上"


def test_english_recipient_gets_english(session: Session, clock: FrozenClock, world: World) -> None:
    world.coordinator.language = "en"
    world.liaison("SWJ").language = "en"
    _overdue_pair(session, world)
    session.commit()
    sent = dict(Day(session, clock).run(PASS))
    assert sent["coordinator"] == "[Escalated] 2 assignments overdue 3+ working days"
    assert sent["liaison_swj"] == "[Overdue] 2 assignments overdue"
    assert sent["head_swj"] == "【督办】2 项任务逾期 3 个工作日以上"


def test_opt_out_of_an_event_kind(session: Session, clock: FrozenClock, world: World) -> None:
    world.liaison("SWJ").notify_opt_out = ["dispatched"]
    clock.set(DISPATCHED)
    a = make_assignment(session, make_case(session, world.coordinator), world.dept("SWJ").id,
                        world.coordinator, at=DISPATCHED, working_days=5)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    assert Day(session, clock).run(local(2026, 10, 8, 9, 10)) == []


def test_inactive_users_are_not_mailed(session: Session, clock: FrozenClock, world: World) -> None:
    world.liaison("SWJ").active = False
    _overdue_pair(session, world)
    session.commit()
    sent = dict(Day(session, clock).run(PASS))
    assert "liaison_swj" not in sent
    assert "head_swj" in sent
