"""The inbox (待办) by role: each list holds what waits for this person, and nothing of others."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.inbox import inbox
from shared.assignments.models import Assignment, ReturnReason
from shared.assignments.schemas import ExtensionIn, FeedbackIn, RedispatchIn, ReturnIn
from shared.callbacks import service as callbacks
from shared.callbacks.models import Satisfaction
from shared.callbacks.schemas import CallbackIn
from shared.cases.models import CaseSource
from shared.clock import FrozenClock
from shared.users.models import User
from tests.factories import World
from tests.test_pages import browser


class Desk:
    """One case led by 市场监管局 (the coordinator's), with work in every state the inboxes list."""

    def __init__(self, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any) -> None:
        self.session, self.clock, self.world = session, clock, world
        case = make_case(shared=("XFXH", "TYJ"))
        self.case_id = case.id
        liaison, tyj = world.liaison("XFXH"), world.liaison("TYJ")
        coord = world.coordinator
        self.overdue = dispatch(case, "XFXH", days=1).id
        self.extension = self._accepted(dispatch(case, "XFXH").id, liaison)
        assignments.request_extension(session, clock, liaison, self.extension, self.v(self.extension),
                                      ExtensionIn(extra_working_days=3, reason="等待检测报告"))
        self.other_extension = self._accepted(dispatch(case, "TYJ").id, tyj)
        assignments.request_extension(session, clock, tyj, self.other_extension, self.v(self.other_extension),
                                      ExtensionIn(extra_working_days=2, reason="人手不足"))
        self.twice = dispatch(case, "XFXH").id
        returned = ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION)
        assignments.return_assignment(session, clock, liaison, self.twice, self.v(self.twice), returned)
        assignments.redispatch(session, clock, coord, self.twice, self.v(self.twice), RedispatchIn())
        assignments.return_assignment(session, clock, liaison, self.twice, self.v(self.twice), returned)
        self.submitted = self._accepted(dispatch(case, "XFXH").id, liaison)
        assignments.submit_feedback(session, clock, liaison, self.submitted, self.v(self.submitted),
                                    FeedbackIn(narrative="已责令退费"))
        self.approved = self._accepted(dispatch(case, "TYJ").id, tyj)
        assignments.submit_feedback(session, clock, tyj, self.approved, self.v(self.approved),
                                    FeedbackIn(narrative="已调解"))
        assignments.approve(session, clock, coord, self.approved, self.v(self.approved), None)
        session.commit()
        # Work on a case this coordinator does not manage (led by 消费者协会, opened by the other one).
        theirs = make_case(lead="XFXH", by=world.user("coordinator2"))
        self.foreign = dispatch(theirs, "XFXH", days=1, by=world.user("coordinator2")).id
        clock.advance(timedelta(days=3))  # Friday: the one-day assignments are overdue

    def v(self, a_id: int) -> int:
        self.session.flush()
        a = self.session.get(Assignment, a_id)
        assert a is not None
        return a.version

    def _accepted(self, a_id: int, liaison: User) -> int:
        assignments.accept(self.session, self.clock, liaison, a_id, self.v(a_id))
        return a_id

    def lists(self, user: User) -> dict[str, set[int]] | None:
        found = inbox(self.session, user, self.clock.now())
        self.session.commit()
        return None if found is None else {lst.name: {a.id for a in lst.items} for lst in found}


def _section(page: str, name: str) -> set[int]:
    m = re.search(rf'<section id="{name}".*?</section>', page, re.S)
    assert m, f"no section {name}"
    return {int(x) for x in re.findall(r'href="/assignments/(\d+)"', m.group(0))}


def test_a_heads_inbox_is_his_departments_decisions(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    desk = Desk(session, clock, world, make_case, dispatch)
    mine = desk.lists(world.head("XFXH"))
    assert mine == {"signoffs": set(), "extensions": {desk.extension}, "needs_decision": {desk.twice},
                    "overdue": {desk.overdue, desk.foreign}}
    assert desk.lists(world.head("TYJ")) == {"signoffs": set(), "extensions": {desk.other_extension},
                                             "needs_decision": set(), "overdue": set()}
    # A head of a department the case is not shared with sees nothing of it.
    assert desk.lists(world.head("GAJ")) == {"signoffs": set(), "extensions": set(), "needs_decision": set(),
                                             "overdue": set()}

    page = browser(app, world.head("XFXH")).get("/inbox")
    assert page.status_code == 200 and "待办事项" in page.text and "待审批的延期申请" in page.text
    assert _section(page.text, "extensions") == {desk.extension}
    assert _section(page.text, "needs_decision") == {desk.twice}
    other = browser(app, world.head("GAJ")).get("/inbox").text
    assert "目前没有等待您处理的事项" in other and "/assignments/" not in other


def test_a_coordinators_inbox_covers_the_cases_he_manages(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    desk = Desk(session, clock, world, make_case, dispatch)
    assert desk.lists(world.coordinator) == {
        "review": {desk.submitted}, "returns": {desk.twice}, "callbacks": {desk.approved},
        "overdue": {desk.overdue},
    }
    # The other coordinator manages only his own case: its overdue work, nothing of the first.
    assert desk.lists(world.user("coordinator2")) == {
        "review": set(), "returns": set(), "callbacks": set(), "overdue": {desk.foreign},
    }
    page = browser(app, world.coordinator).get("/inbox").text
    assert _section(page, "callbacks") == {desk.approved} and "待回访" in page
    assert _section(page, "overdue") == {desk.overdue}

    # Called back: no longer due.
    callbacks.record_callback(session, clock, world.coordinator, desk.case_id, CallbackIn(
        assignment_id=desk.approved, reached=True, satisfaction=Satisfaction.SATISFIED, resolved=True))
    session.commit()
    lists = desk.lists(world.coordinator)
    assert lists is not None and lists["callbacks"] == set()


def test_callbacks_are_due_only_on_complaint_cases(
    session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    case = make_case(source=CaseSource.INSPECTION)
    a = dispatch(case, "SCJG")
    head = world.head("SCJG")
    assignments.accept(session, clock, head, a.id, a.version)
    session.flush()
    assignments.submit_feedback(session, clock, head, a.id, a.version, FeedbackIn(narrative="已检查"))
    session.flush()
    assignments.approve(session, clock, world.coordinator, a.id, a.version, None)
    session.commit()
    found = inbox(session, world.coordinator, clock.now())
    assert found is not None and {lst.name: lst.total for lst in found}["callbacks"] == 0


def test_liaisons_leaders_and_admins_work_from_the_queue(app: Any, world: World) -> None:
    for user in (world.liaison("XFXH"), world.leader, world.admin):
        r = browser(app, user).get("/inbox")
        assert r.status_code == 303 and r.headers["location"] == "/queue", user.username
    r = browser(app).get("/inbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    nav = browser(app, world.head("XFXH")).get("/queue").text
    assert 'href="/inbox"' in nav
    assert 'href="/inbox"' not in browser(app, world.liaison("XFXH")).get("/queue").text
