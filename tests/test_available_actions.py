"""Every role against every assignment state: what is offered succeeds, what is withheld is refused.

"Offered" is what the API returns as allowed_actions (permissions.available_actions
for the requesting user, on the detail and in lists alike); each offered action is
then performed through the real service on a fresh assignment, and each withheld
one is refused by the service itself — 403 when it is not this user's kind of
work on this assignment, 409 when the state (or a pending extension) forbids it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from shared.assignments import plan, queries, service
from shared.assignments.models import Assignment, AssignmentState, ReturnReason
from shared.assignments.permissions import DEPARTMENT_ACTIONS, HEAD_ACTIONS, MANAGER_ACTIONS
from shared.assignments.queries import AssignmentFilter
from shared.assignments.rules import Action
from shared.assignments.schemas import DispatchIn, ExtensionIn, FeedbackIn, RedispatchIn, ReturnIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from shared.errors import DomainError
from shared.supervision import service as supervision
from shared.supervision.models import UrgeKind
from shared.users.models import User
from tests.factories import World, add_colleague, case_input

ROLES: dict[str, Callable[[World], User]] = {
    "liaison": lambda w: w.liaison("XFXH"),  # of the assigned department
    "head": lambda w: w.head("XFXH"),  # of the assigned department
    "other_liaison": lambda w: w.liaison("TYJ"),  # the case is shared with his department too
    "other_head": lambda w: w.head("TYJ"),  # a head, but of another department the case is shared with
    "coordinator": lambda w: w.coordinator,  # opened the case, which his department leads
    "other_coordinator": lambda w: w.user("coordinator2"),  # neither the case's nor of its lead department
    "leader": lambda w: w.leader,
    "admin": lambda w: w.admin,
}
WORKERS = ("liaison", "head")
MANAGER = "coordinator"

# How each variant is reached from a fresh dispatch: (who, action) steps.
PATHS: dict[str, list[tuple[str, Action]]] = {
    "dispatched": [],
    "accepted": [("liaison", Action.ACCEPT)],
    "extension_pending": [("liaison", Action.ACCEPT), ("liaison", Action.REQUEST_EXTENSION)],
    "submitted": [("liaison", Action.ACCEPT), ("liaison", Action.SUBMIT)],
    "done": [("liaison", Action.ACCEPT), ("liaison", Action.SUBMIT), (MANAGER, Action.APPROVE)],
    "returned": [("liaison", Action.RETURN)],
    "returned_twice": [("liaison", Action.RETURN), (MANAGER, Action.REDISPATCH), ("liaison", Action.RETURN)],
    # Decided (审定) after two returns and sent to the same department: it cannot bounce again.
    "redispatched_after_two_returns": [("liaison", Action.RETURN), (MANAGER, Action.REDISPATCH),
                                       ("liaison", Action.RETURN), (MANAGER, Action.REDISPATCH)],
    "cancelled": [(MANAGER, Action.CANCEL)],
    # 审签 (the department's signoff_required on): the liaison's feedback waits for the head.
    "awaiting_signoff": [("liaison", Action.ACCEPT), ("liaison", Action.SUBMIT)],
    "signoff_sent_back": [("liaison", Action.ACCEPT), ("liaison", Action.SUBMIT), ("head", Action.SEND_BACK_SIGNOFF)],
    "signed_off": [("liaison", Action.ACCEPT), ("liaison", Action.SUBMIT), ("head", Action.SIGN_OFF)],
}
SIGNOFF_VARIANTS = frozenset({"awaiting_signoff", "signoff_sent_back", "signed_off"})

A = Action
# The rule, written out: what each role is offered in each variant (everyone else: nothing).
OFFERED: dict[str, dict[str, set[Action]]] = {
    "dispatched": {"liaison": {A.ACCEPT, A.RETURN}, "head": {A.ACCEPT, A.RETURN}, MANAGER: {A.CANCEL}},
    "accepted": {"liaison": {A.SUBMIT, A.REQUEST_EXTENSION, A.ASSIGN},
                 "head": {A.SUBMIT, A.REQUEST_EXTENSION, A.ASSIGN}, MANAGER: {A.CANCEL}},
    "extension_pending": {"liaison": {A.SUBMIT, A.ASSIGN}, "head": {A.SUBMIT, A.ASSIGN}, MANAGER: {A.CANCEL}},
    "submitted": {MANAGER: {A.APPROVE, A.SEND_BACK, A.CANCEL}},
    "done": {},
    "returned": {MANAGER: {A.REDISPATCH, A.CANCEL}},
    "returned_twice": {MANAGER: {A.REDISPATCH, A.CANCEL}},
    "redispatched_after_two_returns": {"liaison": {A.ACCEPT}, "head": {A.ACCEPT}, MANAGER: {A.CANCEL}},
    "cancelled": {},
    "awaiting_signoff": {"head": {A.SIGN_OFF, A.SEND_BACK_SIGNOFF}, MANAGER: {A.CANCEL}},
    "signoff_sent_back": {"liaison": {A.SUBMIT, A.REQUEST_EXTENSION, A.ASSIGN},
                          "head": {A.SUBMIT, A.REQUEST_EXTENSION, A.ASSIGN}, MANAGER: {A.CANCEL}},
    "signed_off": {MANAGER: {A.APPROVE, A.SEND_BACK, A.CANCEL}},
}
# 催办 and 挂牌督办: the case's coordinator, on any open assignment (not on done or cancelled work).
for _variant, _offered in OFFERED.items():
    if _variant not in ("done", "cancelled"):
        _offered[MANAGER] = _offered[MANAGER] | {A.URGE, A.SUPERVISE}
STATE_OF = {"extension_pending": AssignmentState.ACCEPTED, "returned_twice": AssignmentState.RETURNED,
            "redispatched_after_two_returns": AssignmentState.DISPATCHED,
            "signoff_sent_back": AssignmentState.ACCEPTED, "signed_off": AssignmentState.SUBMITTED}


def perform(session: Session, clock: FrozenClock, actor: User, a_id: int, version: int, action: Action) -> Any:
    """The use case behind each action, with valid input: only the rule can refuse it."""
    if action == A.ACCEPT:
        return service.accept(session, clock, actor, a_id, version)
    if action == A.RETURN:
        return service.return_assignment(session, clock, actor, a_id, version,
                                         ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION))
    if action == A.REQUEST_EXTENSION:
        return service.request_extension(session, clock, actor, a_id, version,
                                         ExtensionIn(extra_working_days=3, reason="需等待检测报告"))
    if action == A.SUBMIT:
        return service.submit_feedback(session, clock, actor, a_id, version,
                                       FeedbackIn(narrative="现场检查 3 家门店，责令整改。", enterprises_inspected=3))
    if action == A.APPROVE:
        return service.approve(session, clock, actor, a_id, version, "同意办结")
    if action == A.SEND_BACK:
        return service.send_back(session, clock, actor, a_id, version, "证据不足，请补充现场照片")
    if action == A.SIGN_OFF:
        return service.sign_off(session, clock, actor, a_id, version, "已核，同意报送")
    if action == A.SEND_BACK_SIGNOFF:
        return service.send_back_signoff(session, clock, actor, a_id, version, "请补充整改期限")
    if action == A.CANCEL:
        return service.cancel(session, clock, actor, a_id, version, "投诉人撤诉")
    if action == A.ASSIGN:  # 交办 to a second liaison of the department (Story adds him)
        colleague = session.scalars(select(User).where(col(User.username) == COLLEAGUE)).one()
        return plan.hand_over(session, clock, actor, a_id, version, colleague.id)  # type: ignore[arg-type]
    if action in (A.URGE, A.SUPERVISE):
        kind = UrgeKind.URGE if action == A.URGE else UrgeKind.SUPERVISE
        return supervision.urge(session, clock, actor, a_id, version, kind, "请加快办理")
    assert action == A.REDISPATCH
    return service.redispatch(session, clock, actor, a_id, version,
                              RedispatchIn(decision_note="经审定，仍由消费者协会办理"))


COLLEAGUE = "liaison2_xfxh"


class Story:
    def __init__(self, session: Session, clock: FrozenClock, world: World) -> None:
        self.session, self.clock, self.world = session, clock, world
        if COLLEAGUE not in world.users:
            add_colleague(session, clock, world, "XFXH", COLLEAGUE, "钱联络")
        self.case = cases.create_case(session, clock, world.coordinator,
                                      case_input(world, lead="SCJG", shared=("XFXH", "TYJ")))
        session.commit()

    def user(self, role: str) -> User:
        return ROLES[role](self.world)

    def assignment(self, variant: str) -> Assignment:
        """A fresh assignment to 消费者协会, brought to `variant` through the services.

        The department requires sign-off (审签) in the sign-off variants only.
        """
        department = self.world.dept("XFXH")
        department.signoff_required = variant in SIGNOFF_VARIANTS
        self.session.add(department)
        self.session.commit()
        a = service.dispatch(self.session, self.clock, self.world.coordinator, self.case.id,  # type: ignore[arg-type]
                             DispatchIn(department_id=self.world.dept("XFXH").id, working_days=5,
                                        parallel=True))  # a fresh assignment per variant
        self.session.commit()
        for who, action in PATHS[variant]:
            perform(self.session, self.clock, self.user(who), a.id, self.reload(a.id).version, action)  # type: ignore[arg-type]
            self.session.commit()
        a = self.reload(a.id)  # type: ignore[arg-type]
        assert a.state == (STATE_OF[variant] if variant in STATE_OF else AssignmentState(variant))
        return a

    def reload(self, a_id: int) -> Assignment:
        a = self.session.get(Assignment, a_id, populate_existing=True)
        assert a is not None
        return a

    def offered(self, actor: User, a: Assignment) -> set[Action]:
        """What the API offers: the detail (get_public) and the list item (public_from_row) agree."""
        now = self.clock.now()
        detail = queries.get_public(self.session, a, now, actor).allowed_actions
        items, _ = queries.list_assignments(self.session, actor, now, AssignmentFilter(case_id=self.case.id),
                                            limit=200)
        [listed] = [i.allowed_actions for i in items if i.id == a.id]
        assert listed == detail
        return {Action(x) for x in detail}


@pytest.mark.parametrize("variant", list(PATHS))
def test_each_offered_action_succeeds_and_each_withheld_one_is_refused(
    variant: str, session: Session, clock: FrozenClock, world: World
) -> None:
    story = Story(session, clock, world)
    a = story.assignment(variant)
    a_id, version = a.id, a.version
    for role in ROLES:
        actor = story.user(role)
        offered = story.offered(actor, a)
        assert offered == OFFERED[variant].get(role, set()), (variant, role)
        for action in set(Action) - offered:
            with pytest.raises(DomainError) as refused:
                perform(session, clock, actor, a_id, version, action)  # type: ignore[arg-type]
            session.rollback()
            ours = ((action in DEPARTMENT_ACTIONS and role in WORKERS)
                    or (action in MANAGER_ACTIONS and role == MANAGER)
                    or (action in HEAD_ACTIONS and role == "head"))
            # 交办 names the department's people: outside it, the assignment is not there to hand over.
            assert refused.value.status == (409 if ours else 404 if action == A.ASSIGN else 403), (
                variant, role, action, refused.value)
            if ours and refused.value.key == "invalid_transition":
                assert refused.value.params["allowed"] == sorted(x.value for x in offered)
            assert story.reload(a_id).version == version  # type: ignore[arg-type]  # nothing changed
        for action in offered:
            fresh = story.assignment(variant)
            fresh_id, fresh_version = fresh.id, fresh.version
            perform(session, clock, actor, fresh_id, fresh_version, action)  # type: ignore[arg-type]
            session.commit()
            assert story.reload(fresh_id).version > fresh_version  # type: ignore[arg-type]


def test_a_pending_extension_is_decided_by_the_head_or_the_coordinator_only(
    session: Session, clock: FrozenClock, world: World
) -> None:
    story = Story(session, clock, world)
    deciders = {"head", MANAGER}
    for role in ROLES:
        a = story.assignment("extension_pending")
        [ext] = service.extensions(session, a.id)  # type: ignore[arg-type]
        actor = story.user(role)
        if role in deciders:
            service.decide_extension(session, clock, actor, a.id, ext.id, a.version,  # type: ignore[arg-type]
                                     approve=True, comment=None)
            session.commit()
            # Decided: the department may ask again.
            assert Action.REQUEST_EXTENSION in story.offered(story.user("liaison"), story.reload(a.id))  # type: ignore[arg-type]
        else:
            with pytest.raises(DomainError) as refused:
                service.decide_extension(session, clock, actor, a.id, ext.id, a.version,  # type: ignore[arg-type]
                                         approve=True, comment=None)
            session.rollback()
            assert refused.value.status == 403, role


def test_a_second_extension_request_while_one_is_pending_is_a_conflict(
    session: Session, clock: FrozenClock, world: World
) -> None:
    story = Story(session, clock, world)
    a = story.assignment("extension_pending")
    with pytest.raises(DomainError) as refused:
        perform(session, clock, story.user("head"), a.id, a.version, A.REQUEST_EXTENSION)  # type: ignore[arg-type]
    assert refused.value.status == 409 and refused.value.key == "extension_already_pending"


def test_the_api_and_the_page_offer_each_user_his_own_actions(
    api: Any, app: Any, session: Session, clock: FrozenClock, world: World
) -> None:
    """What a client and a browser see: no approve for the liaison, nothing for the leader."""
    from tests.test_pages import browser, has_form

    story = Story(session, clock, world)
    submitted = story.assignment("submitted")
    pending = story.assignment("extension_pending")
    session.commit()  # SQLite: a reading transaction holds the write lock the requests need

    def allowed(role: str, a: Assignment) -> list[str]:
        client = api.as_user(story.user(role))
        detail = client.get(f"/api/v1/assignments/{a.id}").json()["allowed_actions"]
        [listed] = [i["allowed_actions"] for i in client.get(
            "/api/v1/assignments", params={"case_id": story.case.id}).json()["items"] if i["id"] == a.id]
        assert listed == detail
        return detail  # type: ignore[no-any-return]

    assert allowed("liaison", submitted) == []
    assert allowed("coordinator", submitted) == ["approve", "cancel", "send_back", "supervise", "urge"]
    assert allowed("leader", submitted) == [] and allowed("leader", pending) == []
    assert allowed("liaison", pending) == ["assign", "submit"]  # not request_extension: one is waiting

    path = f"/assignments/{pending.id}"
    page = browser(app, story.user("liaison")).get(path).text
    assert has_form(page, f"{path}/feedback") and not has_form(page, f"{path}/extension")
    assert has_form(page, f"{path}/assignee")  # 交办, offered as "assign"
    assert "/decide" not in page  # the liaison cannot decide his own request
    assert "/decide" in browser(app, story.user("head")).get(path).text
    assert "/decide" in browser(app, story.user("coordinator")).get(path).text
    page = browser(app, story.user("liaison")).get(f"/assignments/{submitted.id}").text
    assert 'method="post" action="/assignments/' not in page
    # 催办 and 挂牌督办: the coordinator's forms only.
    coordinator_page = browser(app, story.user("coordinator")).get(path).text
    assert has_form(coordinator_page, f"{path}/urge") and has_form(coordinator_page, f"{path}/supervise")
    head_page = browser(app, story.user("head")).get(path).text
    assert not has_form(head_page, f"{path}/urge") and not has_form(head_page, f"{path}/supervise")
