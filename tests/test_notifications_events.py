"""Event notices: who hears about what, now or in the next digest, and never twice."""

from __future__ import annotations

from sqlmodel import Session

from shared.assignments.models import Assignment, AssignmentState, ExtensionState, ReturnReason
from shared.cases.models import Case
from shared.clock import FrozenClock
from shared.notifications.service import on_assignment_event
from shared.users.models import NotifyMode
from tests.factories import World
from tests.reminder_builders import (
    Day,
    local,
    mails,
    make_assignment,
    make_case,
    outbox_rows,
    request_extension,
    set_state,
    user_of,
)

TITLE = "某美容院办卡后闭店"
MONDAY = local(2026, 10, 12, 10)


def _dispatch(session: Session, clock: FrozenClock, world: World, code: str = "XFXH") -> Assignment:
    clock.set(MONDAY)
    case = make_case(session, world.coordinator, title=TITLE)
    return make_assignment(session, case, world.dept(code).id, world.coordinator, at=MONDAY, working_days=10)


def _now_mail(session: Session) -> list[tuple[str, str]]:
    return sorted((user_of(m.to), m.subject) for m in mails(session))


def test_dispatch_tells_liaisons_in_their_mode(session: Session, clock: FrozenClock, world: World) -> None:
    world.liaison("XFXH").notify_mode = NotifyMode.IMMEDIATE
    a = _dispatch(session, clock, world)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    reference = session.get(Case, a.case_id).reference  # type: ignore[union-attr]
    # Immediate: in the outbox already, in the same transaction as the change.
    assert _now_mail(session) == [("liaison_xfxh", f"【待签收】{reference} {TITLE}")]
    # Nobody else: the head is spared routine news, the coordinator did it himself.
    assert Day(session, clock).run(local(2026, 10, 12, 10, 10)) == []


def test_digest_user_gets_the_dispatch_at_the_next_pass(
    session: Session, clock: FrozenClock, world: World
) -> None:
    a = _dispatch(session, clock, world)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    assert mails(session) == []
    sent = Day(session, clock).run(local(2026, 10, 12, 10, 10))
    assert [u for u, _s in sent] == ["liaison_xfxh"]
    assert sent[0][1].startswith("【待签收】GZ-2026-")


def test_department_without_liaison_tells_its_head(
    session: Session, clock: FrozenClock, world: World
) -> None:
    world.liaison("XFXH").active = False
    a = _dispatch(session, clock, world)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    assert [u for u, _s in Day(session, clock).run(local(2026, 10, 12, 10, 10))] == ["head_xfxh"]


def test_same_change_reported_twice_is_one_notice(session: Session, clock: FrozenClock, world: World) -> None:
    world.liaison("XFXH").notify_mode = NotifyMode.IMMEDIATE
    a = _dispatch(session, clock, world)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    assert len(mails(session)) == 1
    # A re-dispatch is a new version of the assignment, so a new notice.
    set_state(session, a, AssignmentState.DISPATCHED, clock.now())
    on_assignment_event(session, clock, "dispatched", a, actor=world.coordinator)
    session.commit()
    assert len(mails(session)) == 2


def test_second_return_asks_the_coordinator_to_decide(
    session: Session, clock: FrozenClock, world: World
) -> None:
    world.coordinator.notify_mode = NotifyMode.IMMEDIATE
    a = _dispatch(session, clock, world)
    a.return_count, a.needs_decision = 2, True
    a.return_reason, a.return_note = ReturnReason.NOT_OUR_JURISDICTION, "应由市场监管局处理"
    set_state(session, a, AssignmentState.RETURNED, clock.now())
    on_assignment_event(session, clock, "returned", a, actor=world.liaison("XFXH"), reason=a.return_note)
    session.commit()
    (row,) = outbox_rows(session)
    assert row.to_address == "coordinator@gov.example"
    assert row.subject.startswith("【待审定】GZ-2026-")
    assert "第二次退回" in row.body_text and "不属于本部门职责：应由市场监管局处理" in row.body_text
    assert "需要您审定" in row.body_html


def test_extension_request_goes_to_whoever_may_decide(
    session: Session, clock: FrozenClock, world: World
) -> None:
    world.coordinator.notify_mode = NotifyMode.IMMEDIATE
    world.head("XFXH").notify_mode = NotifyMode.IMMEDIATE
    liaison = world.liaison("XFXH")
    liaison.notify_mode = NotifyMode.IMMEDIATE
    a = _dispatch(session, clock, world)
    set_state(session, a, AssignmentState.ACCEPTED, clock.now())
    ext = request_extension(session, a, liaison, clock.now(), days=3, reason="需等待检测报告")
    on_assignment_event(session, clock, "extension_requested", a, actor=liaison, extension=ext)
    session.commit()
    got = _now_mail(session)
    assert [u for u, _s in got] == ["coordinator", "head_xfxh"]
    assert all(s.startswith("【延期申请】") for _u, s in got)
    assert "申请延期 3 个工作日，理由：需等待检测报告" in outbox_rows(session)[0].body_text

    # The head approves: the liaison (who asked) and the coordinator hear; the head does not.
    before = len(got)
    ext.state, ext.decided_by, ext.decided_at = ExtensionState.APPROVED, world.head("XFXH").id, clock.now()
    a.version += 1
    on_assignment_event(session, clock, "extension_decided", a, actor=world.head("XFXH"), extension=ext)
    session.commit()
    decided = sorted((user_of(m.to), m.subject) for m in mails(session)[before:])
    assert [u for u, _s in decided] == ["coordinator", "liaison_xfxh"]
    assert all(s.startswith("【延期已批准】") for _u, s in decided)


def test_weekend_event_waits_for_the_next_working_morning(
    session: Session, clock: FrozenClock, world: World
) -> None:
    a = _dispatch(session, clock, world)
    session.commit()
    clock.set(local(2026, 10, 11, 15))  # Sunday
    set_state(session, a, AssignmentState.CANCELLED, clock.now())
    on_assignment_event(session, clock, "cancelled", a, actor=world.coordinator,
                        reason="企业已注销，无需处理")
    session.commit()
    day = Day(session, clock)
    assert day.run(local(2026, 10, 11, 15, 10)) == []
    assert day.run(local(2026, 10, 12, 8, 20)) == []
    sent = day.run(local(2026, 10, 12, 8, 30))
    assert [u for u, _s in sent] == ["liaison_xfxh"]
    assert sent[0][1].startswith("【已撤销】GZ-2026-")
    assert "任务已撤销：企业已注销，无需处理" in outbox_rows(session)[-1].body_text
