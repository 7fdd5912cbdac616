"""Mail that is true when it is read: a digest never asks for what is already done.

Notices are queued by the real use cases (dispatch, accept, submit, return,
extension); the work then moves on before the next reminder pass composes the
digest, and the relay delivers it to a real SMTP sink.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.models import Assignment, ReturnReason
from shared.assignments.schemas import DispatchIn, ExtensionIn, FeedbackIn, ReturnIn
from shared.cases.models import Case
from shared.clock import FrozenClock
from shared.notifications.service import SETTLED
from shared.outbox import relay
from shared.outbox.smtp import SmtpConfig
from shared.reminders.models import ReminderNotice
from shared.reminders.service import run_pass
from shared.users.models import Role, User
from tests.celery_harness import Received, SmtpSink
from tests.factories import World, case_input
from tests.reminder_builders import add_user, local, outbox_rows

MONDAY_10 = local(2026, 10, 12, 10)
PASS_AT = local(2026, 10, 12, 12, 20)
FAST = relay.RelayPolicy(batch_size=20, backoff_seconds=30, backoff_max_seconds=1800, max_attempts=5,
                         stale_seconds=300, run_seconds=30, round_seconds=30)


def _case(session: Session, clock: FrozenClock, world: World, title: str) -> Case:
    from shared.cases import service as cases

    case = cases.create_case(session, clock, world.coordinator, case_input(world, title=title))
    session.flush()
    return case


def _dispatch(session: Session, clock: FrozenClock, world: World, title: str, code: str = "XFXH") -> Assignment:
    case = _case(session, clock, world, title)
    a = assignments.dispatch(session, clock, world.coordinator, case.id,  # type: ignore[arg-type]
                             DispatchIn(department_id=world.dept(code).id, working_days=10,
                                        instructions="核查经营资质并反馈"))
    session.commit()
    return a


def _at(clock: FrozenClock, when: datetime) -> None:
    clock.set(when)


def _deliver(session: Session, engine: Engine, clock: FrozenClock) -> list[Received]:
    """The pass composes the digests; the relay hands them to a real SMTP server."""
    clock.set(PASS_AT)
    run_pass(session, clock)
    session.commit()
    with SmtpSink() as sink:
        relay.run(engine, clock, smtp=SmtpConfig.from_url(sink.url), policy=FAST)
    return sorted(sink.messages, key=lambda m: m.rcpt_tos[0])


def _to(received: list[Received], address: str) -> list[Received]:
    return [m for m in received if m.rcpt_tos == [address]]


def test_a_digest_never_asks_for_what_was_done_since(
    session: Session, engine: Engine, clock: FrozenClock, world: World
) -> None:
    """12:20: the liaison's digest asked to accept three assignments already accepted, submitted or returned."""
    qian = add_user(session, world, "liaison_xfxh2", "XFXH")  # 钱联络, a second liaison of 消费者协会
    session.commit()
    me = world.liaison("XFXH")  # 李联络
    clock.set(MONDAY_10)
    accepted = _dispatch(session, clock, world, "某美容院办卡后闭店")
    submitted = _dispatch(session, clock, world, "某培训机构拒不退费")
    returned = _dispatch(session, clock, world, "某餐馆不属本区")
    waiting = _dispatch(session, clock, world, "某电商平台虚假促销")

    _at(clock, local(2026, 10, 12, 11))
    assignments.accept(session, clock, qian, accepted.id, accepted.version)  # type: ignore[arg-type]
    assignments.accept(session, clock, me, submitted.id, submitted.version)  # type: ignore[arg-type]
    assignments.submit_feedback(session, clock, me, submitted.id, submitted.version,  # type: ignore[arg-type]
                                FeedbackIn(narrative="已约谈经营者，退费完成"))
    assignments.return_assignment(session, clock, me, returned.id, returned.version,  # type: ignore[arg-type]
                                  ReturnIn(reason=ReturnReason.WRONG_LOCALITY, note="应由鼓楼区处理"))
    session.commit()

    received = _deliver(session, engine, clock)
    (mine,) = _to(received, "liaison_xfxh@gov.example")
    text, html = mine.body("plain"), mine.body("html")
    # Still to accept: asked, with its number and a link to its page.
    assert f"任务 #{waiting.id}" in text and "待您办理：签收" in text
    assert f"/assignments/{waiting.id}" in html
    # Accepted by a colleague: told as what it is now, not asked.
    assert "已有进展：钱联络已于 2026-10-12（周一）11:00 签收" in text
    assert f"任务 #{accepted.id}" in text
    # What he did himself is not news to him: gone.
    for done in (submitted, returned):
        assert f"任务 #{done.id}" not in text and f"/assignments/{done.id}" not in html
    assert text.count("待您办理") == 1
    # One thing is asked: the subject names it (what moved on is context, not counted).
    assert mine.subject == f"【待签收】{_reference(session, waiting)} 某电商平台虚假促销"

    # 钱联络 accepted one himself (not news to him); what his colleague did is told as done.
    (his,) = _to(received, "liaison_xfxh2@gov.example")
    his_text = his.body("plain")
    assert f"任务 #{accepted.id}" not in his_text
    assert f"任务 #{waiting.id}" in his_text and his_text.count("待您办理") == 1
    assert "已有进展：李联络已于 2026-10-12（周一）11:00 提交反馈" in his_text
    assert "已有进展：李联络已于 2026-10-12（周一）11:00 退回" in his_text
    assert his.subject == f"【待签收】{_reference(session, waiting)} 某电商平台虚假促销"

    # The coordinator hears what now waits for him, named by kind.
    (coordinator,) = _to(received, "coordinator@gov.example")
    assert coordinator.subject == "【待审核】1 项、【退回待处理】1 项"
    body = coordinator.body("plain")
    assert f"任务 #{submitted.id}" in body and "待您办理：审核" in body
    assert f"任务 #{returned.id}" in body and "待您办理：重新派发或撤销" in body


def _reference(session: Session, a: Assignment) -> str:
    case = session.get(Case, a.case_id)
    assert case is not None
    return case.reference


def test_a_head_is_not_asked_to_decide_an_extension_she_approved(
    session: Session, engine: Engine, clock: FrozenClock, world: World
) -> None:
    head, liaison = world.head("XFXH"), world.liaison("XFXH")
    clock.set(MONDAY_10)
    a = _dispatch(session, clock, world, "某健身连锁店预付卡退费投诉")
    a = assignments.accept(session, clock, liaison, a.id, a.version)  # type: ignore[arg-type]
    ext = assignments.request_extension(session, clock, liaison, a.id, a.version,  # type: ignore[arg-type]
                                        ExtensionIn(extra_working_days=3, reason="需等待检测报告"))
    session.commit()
    _at(clock, local(2026, 10, 12, 11, 30))
    assignments.decide_extension(session, clock, head, a.id, ext.id, a.version,  # type: ignore[arg-type]
                                 approve=True, comment="同意")
    session.commit()
    before = len(outbox_rows(session))

    received = _deliver(session, engine, clock)
    # The head approved it herself: a digest of nothing but that request is not sent at all.
    assert _to(received, "head_xfxh@gov.example") == []
    # The coordinator hears the decision as news, never the request as something to decide.
    (coordinator,) = _to(received, "coordinator@gov.example")
    assert "延期申请" not in coordinator.subject and coordinator.subject.startswith("【延期已批准】")
    assert "审批延期" not in coordinator.body("plain")
    assert "仅供知悉" in coordinator.body("plain")
    # The liaison who asked hears the answer.
    (asked,) = _to(received, "liaison_xfxh@gov.example")
    assert asked.subject.startswith("【延期已批准】")

    # The head's notice is settled: the next pass does not bring it back.
    waiting = session.scalars(select(ReminderNotice).where(
        ReminderNotice.recipient_id == head.id, ReminderNotice.kind == "extension_requested")).one()  # type: ignore[arg-type]
    assert waiting.digest_key == SETTLED
    clock.set(local(2026, 10, 12, 14))
    run_pass(session, clock)
    session.commit()
    assert [m.to_address for m in outbox_rows(session)[before:]] == sorted(
        ["coordinator@gov.example", "liaison_xfxh@gov.example"])


def test_only_stale_notices_send_nothing(session: Session, engine: Engine, clock: FrozenClock, world: World) -> None:
    liaison = world.liaison("GAJ")
    clock.set(MONDAY_10)
    first = _dispatch(session, clock, world, "某小区电动车充电收费纠纷", code="GAJ")
    second = _dispatch(session, clock, world, "某商场消防通道占用", code="GAJ")
    _at(clock, local(2026, 10, 12, 10, 30))
    assignments.accept(session, clock, liaison, first.id, first.version)  # type: ignore[arg-type]
    assignments.return_assignment(session, clock, liaison, second.id, second.version,  # type: ignore[arg-type]
                                  ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION))
    session.commit()
    received = _deliver(session, engine, clock)
    assert _to(received, "liaison_gaj@gov.example") == []
    assert {n.digest_key for n in session.scalars(
        select(ReminderNotice).where(ReminderNotice.recipient_id == liaison.id))} == {SETTLED}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_cards_name_the_assignment_and_the_action_in_the_readers_language(
    session: Session, engine: Engine, clock: FrozenClock, world: World, lang: str
) -> None:
    reader: User = world.liaison("WJW")
    reader.language = lang
    colleague = add_user(session, world, "liaison_wjw2", "WJW", Role.LIAISON)
    session.commit()
    clock.set(MONDAY_10)
    asked = _dispatch(session, clock, world, "某药店销售过期药品", code="WJW")
    moved = _dispatch(session, clock, world, "某诊所虚假宣传", code="WJW")
    _at(clock, local(2026, 10, 12, 11))
    assignments.accept(session, clock, colleague, moved.id, moved.version)  # type: ignore[arg-type]
    session.commit()
    (mail,) = _to(_deliver(session, engine, clock), "liaison_wjw@gov.example")
    text, html = mail.body("plain"), mail.body("html")
    if lang == "en":
        assert f"Assignment #{asked.id}" in text and "Your action: accept it" in text
        assert "Already handled: accepted by 钱联络, Mon 2026-10-12 11:00" in text
        assert "You were asked to accept it; no longer needed" in text
        assert "Personal settings" in html and '<html lang="en">' in html
    else:
        assert f"任务 #{asked.id}" in text and "待您办理：签收" in text
        assert "已有进展：钱联络已于 2026-10-12（周一）11:00 签收" in text
        assert "此前请您签收，现已无需处理" in text
        assert "个人设置" in html
    assert f"/assignments/{asked.id}" in html and f"/assignments/{moved.id}" in html
    assert "/settings" in html and "/settings" in text
    # The subject names what is asked (one thing to accept), not what moved on.
    reference = _reference(session, asked)
    expected = "[To accept] " if lang == "en" else "【待签收】"
    assert mail.subject.startswith(expected) and reference in mail.subject


def test_a_reader_who_may_no_longer_act_is_not_asked(
    session: Session, engine: Engine, clock: FrozenClock, world: World
) -> None:
    """Still waiting to be accepted, but he moved to another department: not his to accept any more."""
    moved_away = world.liaison("SWJ")
    clock.set(MONDAY_10)
    _dispatch(session, clock, world, "某学校周边文具店销售三无产品", code="SWJ")
    moved_away.department_id = world.dept("TYJ").id
    session.commit()
    assert _to(_deliver(session, engine, clock), "liaison_swj@gov.example") == []
    assert {n.digest_key for n in session.scalars(
        select(ReminderNotice).where(ReminderNotice.recipient_id == moved_away.id))} == {SETTLED}
