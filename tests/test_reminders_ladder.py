"""The reminder ladder over a fortnight with Mid-Autumn, National Day and a make-up Saturday.

2026 (chinese-calendar): Fri 09-25 Mid-Autumn off; 10-01..10-07 National Day off;
Sat 10-10 is a make-up working day (调休); Sun 10-11 off.  The clock is moved
from pass to pass; nothing sleeps.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared.assignments.models import AssignmentState
from shared.clock import FrozenClock
from shared.notifications.service import on_assignment_event
from shared.outbox.models import OutboxMessage
from shared.reminders.models import ReminderNotice
from shared.reminders.service import run_pass
from tests.factories import World
from tests.reminder_builders import Day, local, mails, make_assignment, make_case, set_state

FITNESS = "某健身连锁店预付卡退费投诉"
TRAINING = "某培训机构停业卷款"


def test_fortnight_ladder_with_holidays_and_make_up_saturday(
    session: Session, clock: FrozenClock, world: World
) -> None:
    coordinator, liaison = world.coordinator, world.liaison("TYJ")
    sports = world.dept("TYJ").id
    day = Day(session, clock)

    # Thu 09-24 10:00: A dispatched to 体育局, 5 working days → due Fri 10-09 17:30
    # (09-28, 09-29, 09-30, 10-08, 10-09); acceptance due Mon 09-28 17:30.
    clock.set(local(2026, 9, 24, 10))
    case_a = make_case(session, coordinator, title=FITNESS)
    a = make_assignment(session, case_a, sports, coordinator, at=clock.now(), working_days=5)
    on_assignment_event(session, clock, "dispatched", a, actor=coordinator)
    session.commit()
    ref_a = case_a.reference
    assert a.feedback_due_at == local(2026, 10, 9, 17, 30)
    assert a.acceptance_due_at == local(2026, 9, 28, 17, 30)

    # The dispatch notice waits for the next pass; a liaison's digest of one is that one email.
    assert day.run(local(2026, 9, 24, 10, 10)) == [("liaison_tyj", f"【待签收】{ref_a} {FITNESS}")]
    assert day.run(local(2026, 9, 25, 9)) == []  # 中秋节
    assert day.run(local(2026, 9, 26, 9)) == []
    assert day.run(local(2026, 9, 27, 9)) == []

    # Mon 09-28 08:00: B dispatched and accepted at once, 3 working days → due Thu 10-08 17:30.
    clock.set(local(2026, 9, 28, 8))
    case_b = make_case(session, coordinator, title=TRAINING)
    b = make_assignment(session, case_b, sports, coordinator, at=clock.now(), working_days=3,
                        state=AssignmentState.ACCEPTED, assignee=liaison)
    session.commit()
    ref_b = case_b.reference
    assert b.feedback_due_at == local(2026, 10, 8, 17, 30)

    assert day.run(local(2026, 9, 28, 8, 0)) == []  # before working hours
    assert day.run(local(2026, 9, 28, 9)) == []  # A accepts until 17:30 today; nothing due within 2 days

    # A not accepted → 催签; B due within two working days → 预警: one digest, subject names the worst.
    assert day.run(local(2026, 9, 29, 9)) == [("liaison_tyj", "【催签】1 项、【预警】1 项")]
    assert day.run(local(2026, 9, 29, 20)) == []  # after close of business
    assert day.run(local(2026, 9, 30, 9)) == [("liaison_tyj", "【催签】1 项、【预警】1 项")]
    assert day.run(local(2026, 9, 30, 9, 10)) == []  # the same day again: nothing new
    clock.set(local(2026, 9, 30, 10))
    set_state(session, a, AssignmentState.ACCEPTED, clock.now())
    session.commit()

    for d in range(1, 8):  # 国庆节
        assert day.run(local(2026, 10, d, 9)) == [], f"10-0{d} is a holiday"

    assert day.run(local(2026, 10, 8, 9)) == [("liaison_tyj", "【今日到期】1 项、【预警】1 项")]
    assert day.run(local(2026, 10, 9, 9)) == [
        ("head_tyj", f"【催办】{ref_b} {TRAINING}：已逾期 1 个工作日"),
        ("liaison_tyj", "【逾期】1 项、【今日到期】1 项"),
    ]
    # Saturday 10-10 is a working day (调休): the ladder moves on.
    assert day.run(local(2026, 10, 10, 9)) == [
        ("head_tyj", "【催办】本部门 2 项任务已逾期"),
        ("liaison_tyj", "【逾期】2 项任务已逾期"),
    ]
    assert day.run(local(2026, 10, 11, 9)) == []  # Sunday
    # B three working days overdue (10-09, 10-10, 10-12): 督办 to the coordinator and the head.
    assert day.run(local(2026, 10, 12, 9)) == [
        ("coordinator", f"【督办】{ref_b} {TRAINING}：已逾期 3 个工作日"),
        ("head_tyj", "【督办】1 项、【催办】1 项"),
        ("liaison_tyj", "【逾期】2 项任务已逾期"),
    ]
    assert day.run(local(2026, 10, 13, 9)) == [
        ("coordinator", "【督办】2 项任务逾期 3 个工作日以上"),
        ("head_tyj", "【督办】2 项任务逾期 3 个工作日以上"),
        ("liaison_tyj", "【逾期】2 项任务已逾期"),
    ]

    # A's feedback arrives: it leaves the liaison's and head's lists; the coordinator must review.
    clock.set(local(2026, 10, 13, 10))
    set_state(session, a, AssignmentState.SUBMITTED, clock.now())
    on_assignment_event(session, clock, "submitted", a, actor=liaison)
    session.commit()
    assert day.run(local(2026, 10, 14, 9)) == [
        ("coordinator", "【督办】1 项、【待审核】1 项"),
        ("head_tyj", f"【督办】{ref_b} {TRAINING}：已逾期 5 个工作日"),
        ("liaison_tyj", f"【逾期】{ref_b} {TRAINING}：已逾期 5 个工作日"),
    ]
    digest = mails(session)[-3]
    assert digest.to == "coordinator@gov.example"
    body = session.scalars(select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())  # type: ignore[union-attr]
                           .offset(2).limit(1)).one()
    # The review reminder stands for the "submitted" news: one line per decision.
    assert "反馈待审核" in body and "已提交反馈" not in body
    assert body.index("督办") < body.index("反馈待审核")


def test_no_extra_mail_when_the_pass_runs_twice(session: Session, clock: FrozenClock, world: World) -> None:
    coordinator = world.coordinator
    for code in ("TYJ", "SWJ", "XFXH"):
        for n in range(3):
            make_assignment(session, make_case(session, coordinator), world.dept(code).id, coordinator,
                            at=local(2026, 10, 8, 9 + n), working_days=1 + n)
    session.commit()
    day = Day(session, clock)
    first = day.run(local(2026, 10, 13, 9))
    assert first, "something is overdue"
    assert day.run(local(2026, 10, 13, 9)) == []
    assert day.run(local(2026, 10, 13, 15)) == []
    notices = session.scalar(select(func.count()).select_from(ReminderNotice))
    assert notices and session.scalar(
        select(func.count()).select_from(ReminderNotice).where(ReminderNotice.digest_key.is_(None))  # type: ignore[union-attr]
    ) == 0


def test_two_passes_at_once_send_each_reminder_once(
    engine: Engine, session: Session, clock: FrozenClock, world: World
) -> None:
    """Two workers (or two beats) run the same pass at the same moment."""
    coordinator = world.coordinator
    for code in ("TYJ", "SWJ", "XFXH", "GAJ"):
        for n in range(5):
            make_assignment(session, make_case(session, coordinator), world.dept(code).id, coordinator,
                            at=local(2026, 10, 8, 9, n), working_days=1 + n % 3)
    session.commit()
    now = local(2026, 10, 13, 9)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    emails: list[int] = []

    def worker() -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                barrier.wait()
                emails.append(run_pass(s, FrozenClock(now)).emails)
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    # One pass mailed everything; the other found the same items already told.
    assert sorted(emails)[0] == 0 < sorted(emails)[1]
    sent = mails(session)
    assert len(sent) == sorted(emails)[1]
    recipients = [m.to for m in sent]
    assert len(recipients) == len(set(recipients)), "one email per person"
    assert {"liaison_tyj@gov.example", "head_tyj@gov.example", "coordinator@gov.example"} <= set(recipients)
    # Every notice was told by the one pass that ran: a personal one in its recipient's
    # email, a department's (催签 to all its liaisons …) in the digests of that pass.
    rows = session.execute(select(ReminderNotice.recipient_id, ReminderNotice.digest_key)).all()
    assert all(r.digest_key is not None for r in rows)
    outbox_keys = {m.dedup_key for m in session.scalars(select(OutboxMessage))}
    assert {r.digest_key for r in rows if r.recipient_id is not None} <= outbox_keys
    passes = {r.digest_key for r in rows if r.recipient_id is None}
    assert len(passes) == 1 and next(iter(passes)).startswith("pass:")
