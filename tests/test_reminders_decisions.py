"""Pending decisions are chased too: extensions, feedback to review, returned assignments."""

from __future__ import annotations

from sqlmodel import Session

from shared.assignments.models import AssignmentState, ReturnReason
from shared.clock import FrozenClock
from shared.feedback.models import Feedback
from tests.factories import World
from tests.reminder_builders import Day, local, make_assignment, make_case, outbox_rows, request_extension, set_state

MONDAY = local(2026, 10, 12, 10)


def test_extension_waiting_since_yesterday_reminds_head_and_coordinator(
    session: Session, clock: FrozenClock, world: World
) -> None:
    case = make_case(session, world.coordinator)
    a = make_assignment(session, case, world.dept("WJW").id, world.coordinator, at=MONDAY, working_days=10,
                        state=AssignmentState.ACCEPTED)
    request_extension(session, a, world.liaison("WJW"), MONDAY, days=5, reason="需等待省级检测机构报告")
    session.commit()
    day = Day(session, clock)
    assert day.run(local(2026, 10, 12, 15)) == []  # asked today: the event notice covers it
    sent = day.run(local(2026, 10, 13, 9))
    assert sent == [
        ("coordinator", f"【待审批延期】{case.reference} 某健身连锁店预付卡退费投诉：延期申请待审批"),
        ("head_wjw", f"【待审批延期】{case.reference} 某健身连锁店预付卡退费投诉：延期申请待审批"),
    ]
    body = outbox_rows(session)[-1].body_text
    assert "申请延期 5 个工作日，理由：需等待省级检测机构报告" in body and "已等待 1 个工作日" in body


def test_head_is_not_chased_about_his_own_request(session: Session, clock: FrozenClock, world: World) -> None:
    a = make_assignment(session, make_case(session, world.coordinator), world.dept("WJW").id,
                        world.coordinator, at=MONDAY, working_days=10, state=AssignmentState.ACCEPTED)
    request_extension(session, a, world.head("WJW"), MONDAY)
    session.commit()
    assert [u for u, _s in Day(session, clock).run(local(2026, 10, 13, 9))] == ["coordinator"]


def test_feedback_and_returns_waiting_for_the_coordinator(
    session: Session, clock: FrozenClock, world: World
) -> None:
    submitted = make_assignment(session, make_case(session, world.coordinator), world.dept("WJW").id,
                                world.coordinator, at=local(2026, 10, 8, 9), working_days=10)
    set_state(session, submitted, AssignmentState.SUBMITTED, MONDAY)
    session.add(Feedback(assignment_id=submitted.id, author_id=world.liaison("WJW").id,  # type: ignore[arg-type]
                         submitted_at=MONDAY, narrative="已完成现场检查，责令整改"))
    returned = make_assignment(session, make_case(session, world.coordinator), world.dept("GAJ").id,
                               world.coordinator, at=local(2026, 10, 8, 9), working_days=10)
    returned.return_count, returned.needs_decision = 2, True
    returned.return_reason = ReturnReason.WRONG_LOCALITY
    set_state(session, returned, AssignmentState.RETURNED, MONDAY)
    session.commit()
    sent = Day(session, clock).run(local(2026, 10, 14, 9))
    assert sent == [("coordinator", "【待审核】1 项、【退回待处理】1 项")]
    body = outbox_rows(session)[-1].body_text
    assert "反馈已于 2026-10-12（周一）10:00 提交，等待审核" in body
    assert "已两次退回（不属于本辖区），请审定" in body
    assert "已等待 2 个工作日" in body
