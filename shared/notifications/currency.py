"""Is a notice still true when its email is composed?  What it asks of its reader now.

A notice is written when something happens (an event) or when a pass finds a
stage, but a digest user reads it at the next pass — hours later, perhaps.  By
then a colleague may have accepted the assignment, or the head approved the
extension herself.  So every notice is read again against the assignment as
it is *when the digest is composed* (``deliver_waiting``, in the pass's
transaction, the moment the outbox row's subject and bodies are written):

- **current**: it asks for an action the reader may take now — the same
  answer as the page's buttons and the API's list
  (``permissions.available_actions``, ``permissions.may_decide_extension``) —
  or it is news that stays true (approved, cancelled, an extension decided);
- **moved on**: what it asked for is no longer wanted (the state machine no
  longer offers that step, or the extension is decided).  It is shown, if at
  all, as what happened since (``已有进展：张三已于…签收``), never as a
  request, and it never makes an email on its own;
- **gone**: the step is still open but this reader may no longer take it
  (he changed department or role).  Not shown.

This is as late as the content can be decided: the relay sends what the pass
composed, normally seconds after its commit.  A digest held back by SMTP
retries is not composed again — the relay sends stored bytes, and a group
notice is not tied to the one email that showed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from shared.assignments import rules as workflow
from shared.assignments import status
from shared.assignments.models import AssignmentState
from shared.assignments.permissions import (
    MANAGER_ACTIONS,
    CaseFacts,
    available_actions,
    may_decide_extension,
    works_for,
)
from shared.assignments.rules import Action
from shared.reminders.rules import DEADLINE_STAGES, EventKind, Stage
from shared.users.models import Role, User


class Ask(StrEnum):
    """What a notice asks its reader to do (the card's 待您办理)."""

    ACCEPT = "accept"  # 签收
    SUBMIT = "submit"  # 反馈
    DECIDE_EXTENSION = "decide_extension"  # 审批延期
    SIGN_OFF = "sign_off"  # 审签
    REVIEW = "review"  # 审核
    REDISPATCH = "redispatch"  # 重新派发或撤销
    DECIDE_RETURN = "decide_return"  # 审定退回
    FOLLOW_UP = "follow_up"  # 督办: the coordinator chases the department


class Verdict(StrEnum):
    CURRENT = "current"
    MOVED_ON = "moved_on"
    GONE = "gone"


# The workflow step behind each ask (DECIDE_EXTENSION and FOLLOW_UP have their own checks).
_STEP = {Ask.ACCEPT: Action.ACCEPT, Ask.SUBMIT: Action.SUBMIT, Ask.REVIEW: Action.APPROVE,
         Ask.SIGN_OFF: Action.SIGN_OFF,
         Ask.REDISPATCH: Action.REDISPATCH, Ask.DECIDE_RETURN: Action.REDISPATCH}
# News: true once it happened, whatever came after; asks nothing.
NEWS = frozenset({EventKind.APPROVED.value, EventKind.CANCELLED.value, EventKind.EXTENSION_DECIDED.value})


class Reader(Protocol):
    """The recipient (shared.notifications.service.Recipient fits)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def department_id(self) -> int: ...


class Subject(Protocol):
    """The assignment as it is now (shared.notifications.render.AssignmentInfo fits)."""

    @property
    def state(self) -> str: ...

    @property
    def department_id(self) -> int: ...

    @property
    def return_count(self) -> int: ...

    @property
    def needs_decision(self) -> bool: ...

    @property
    def lead_department_id(self) -> int: ...

    @property
    def coordinator_id(self) -> int | None: ...

    @property
    def pending_extension_id(self) -> int | None: ...


@dataclass(frozen=True)
class _Facts:
    """The assignment facts permissions.available_actions reads."""

    state: AssignmentState
    department_id: int
    return_count: int


@dataclass(frozen=True)
class Reading:
    verdict: Verdict
    ask: Ask | None  # None: news, nothing to do


def actor_of(reader: Reader) -> User:
    """A detached User carrying what the permission rules read (id, role, department); never added."""
    return User(id=reader.id, role=Role(reader.role), department_id=reader.department_id,
                username="", name="", email="", password_hash="")


def ask_of(kind: str, params: dict[str, Any], subject: Subject, actor: User) -> Ask | None:
    """The action notice KIND asks of ACTOR, given the assignment's state now."""
    facts = _facts(subject)
    if kind in NEWS:
        return None
    if kind in (Stage.EXTENSION_PENDING, EventKind.EXTENSION_REQUESTED):
        return Ask.DECIDE_EXTENSION
    if kind in (Stage.REVIEW_PENDING, EventKind.SUBMITTED):
        return Ask.REVIEW
    if kind in (Stage.SIGNOFF_PENDING, EventKind.SIGNOFF_REQUESTED):
        return Ask.SIGN_OFF
    if kind in (Stage.RETURN_PENDING, EventKind.RETURNED):
        return Ask.DECIDE_RETURN if subject.needs_decision or params.get("needs_decision") else Ask.REDISPATCH
    if kind in (EventKind.DISPATCHED, Stage.ACCEPT_OVERDUE):
        return Ask.ACCEPT
    if kind in (EventKind.SENT_BACK, EventKind.SIGNOFF_SENT_BACK, EventKind.ASSIGNED):
        return Ask.SUBMIT
    if kind in DEADLINE_STAGES:
        if not works_for(actor, facts):
            return Ask.FOLLOW_UP  # the coordinator, on an escalated assignment
        dispatched = Action.ACCEPT in workflow.ALLOWED.get(facts.state, {})
        return Ask.ACCEPT if dispatched else Ask.SUBMIT
    raise ValueError(f"unknown notice kind {kind!r}")


def read(kind: str, params: dict[str, Any], subject: Subject, actor: User) -> Reading:
    """Is notice KIND (with PARAMS) about SUBJECT still true for its reader (ACTOR, from actor_of), now?"""
    ask = ask_of(kind, params, subject, actor)
    if ask is None:
        return Reading(Verdict.CURRENT, None)
    facts = _facts(subject)
    case = CaseFacts(lead_department_id=subject.lead_department_id, coordinator_id=subject.coordinator_id,
                     extension_pending=subject.pending_extension_id is not None)
    offered = set(available_actions(actor, facts, case))
    if ask == Ask.DECIDE_EXTENSION:
        wanted = params.get("extension_id")
        still_open = subject.pending_extension_id is not None and wanted in (None, subject.pending_extension_id)
        may = may_decide_extension(actor, facts, case)
    elif ask == Ask.FOLLOW_UP:
        still_open = status.is_active(facts.state)  # 督办 chases work still on the clock
        may = bool(offered & MANAGER_ACTIONS)
    else:
        step = _STEP[ask]
        still_open = step in workflow.ALLOWED.get(facts.state, {})
        may = step in offered
    if not still_open:
        return Reading(Verdict.MOVED_ON, ask)
    return Reading(Verdict.CURRENT if may else Verdict.GONE, ask)


def _facts(subject: Subject) -> _Facts:
    return _Facts(AssignmentState(subject.state), subject.department_id, subject.return_count)
