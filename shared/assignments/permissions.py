"""What an actor may do to an assignment now — asked once, here.

`available_actions` is the list the API returns, the buttons a page shows and
the actions an email asks for; the use cases in shared/assignments/service.py
refuse exactly what it withholds (tests/test_available_actions.py walks every
role and state).  Two things decide it:

- the state machine (shared/assignments/rules.py): what may happen next at all;
- who is asking: the assigned department's liaisons and heads work their own
  assignment (accept, return, request an extension, submit, and hand accepted
  work to a colleague: 交办 to a 承办人, `Action.ASSIGN`); the case's
  coordinator reviews and dispatches (approve, send back, cancel, redispatch)
  and, on any open assignment, urges (催办) or flags it for supervision
  (挂牌督办); leaders and admins change nothing;
- 审签: feedback awaiting sign-off is signed off or sent back by a head of
  the assigned department only — not by its liaisons, not by the coordinator.
  Whether a submission waits for him is the department's setting at the time
  of submitting (service.submit_feedback); what already waits stays his to
  decide if the setting is turned off meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.assignments import rules, status
from shared.assignments.models import AssignmentState
from shared.assignments.rules import Action
from shared.errors import Conflict, Forbidden, InvalidTransition
from shared.scope import DEPARTMENT_ROLES, can_manage_case
from shared.users.models import Role, User

# The assigned department's own work.
DEPARTMENT_ACTIONS = frozenset({Action.ACCEPT, Action.RETURN, Action.REQUEST_EXTENSION, Action.SUBMIT,
                                Action.ASSIGN})
# The assigned department's head: 审签.
HEAD_ACTIONS = frozenset({Action.SIGN_OFF, Action.SEND_BACK_SIGNOFF})
# The case manager's decisions.
MANAGER_ACTIONS = frozenset({Action.APPROVE, Action.SEND_BACK, Action.CANCEL, Action.REDISPATCH,
                             *rules.NOTICE_ACTIONS})


class AssignmentFacts(Protocol):
    @property
    def state(self) -> AssignmentState: ...

    @property
    def department_id(self) -> int: ...

    @property
    def return_count(self) -> int: ...


@dataclass(frozen=True)
class CaseFacts:
    """The parts of the case and of the assignment's history that decide who may act."""

    lead_department_id: int
    coordinator_id: int | None
    extension_pending: bool = False


def works_for(actor: User, a: AssignmentFacts) -> bool:
    """A liaison or head of the assigned department."""
    return actor.role in DEPARTMENT_ROLES and actor.department_id == a.department_id


def heads(actor: User, a: AssignmentFacts) -> bool:
    """A head of the assigned department: he signs its feedback off (审签)."""
    return heads_department(actor, a.department_id)


def heads_department(actor: User, department_id: int) -> bool:
    """A head of DEPARTMENT_ID: what waits for sign-off in it is his to sign."""
    return actor.role == Role.HEAD and actor.department_id == department_id


def may_decide_extension(actor: User, a: AssignmentFacts, case: CaseFacts) -> bool:
    """The head of the assigned department, or the case's coordinator."""
    return heads(actor, a) or can_manage_case(actor, case)


def require_extension_decider(actor: User, a: AssignmentFacts, case: CaseFacts) -> None:
    """403 unless `actor` may approve or deny the assignment's extension requests."""
    if not may_decide_extension(actor, a, case):
        raise Forbidden()


def _state_allows(a: AssignmentFacts, case: CaseFacts) -> set[Action]:
    allowed = set(rules.ALLOWED.get(AssignmentState(a.state), {}))
    if status.is_open(a.state):
        allowed |= rules.NOTICE_ACTIONS
    if a.return_count >= rules.RETURNS_BEFORE_DECISION:
        allowed.discard(Action.RETURN)  # the coordinator decides (审定) instead
    if case.extension_pending:
        allowed.discard(Action.REQUEST_EXTENSION)
    return allowed


def available_actions(actor: User, a: AssignmentFacts, case: CaseFacts) -> list[Action]:
    """The actions `actor` may take on `a` now, in a stable order."""
    allowed = _state_allows(a, case)
    mine: set[Action] = set()
    if works_for(actor, a):
        mine |= DEPARTMENT_ACTIONS
    if heads(actor, a):
        mine |= HEAD_ACTIONS
    if can_manage_case(actor, case):
        mine |= MANAGER_ACTIONS
    return sorted(allowed & mine, key=lambda x: x.value)


def actor_key(actor: User) -> tuple[object, ...]:
    """What available_actions reads of the actor: two actors with the same key are offered the same actions.

    Role and department (works_for, can_manage_case), and the id only where it
    counts: a coordinator manages the cases he coordinates.
    """
    return (actor.role, actor.department_id, actor.id if actor.role == Role.COORDINATOR else None)


def _acts_for(actor: User, a: AssignmentFacts, case: CaseFacts, action: Action) -> bool:
    """Is `action` this actor's kind of work on this assignment at all, whatever its state?"""
    return ((action in DEPARTMENT_ACTIONS and works_for(actor, a))
            or (action in HEAD_ACTIONS and heads(actor, a))
            or (action in MANAGER_ACTIONS and can_manage_case(actor, case)))


def require_action(actor: User, a: AssignmentFacts, case: CaseFacts, action: Action) -> None:
    """Refuse exactly what available_actions withholds; every use case calls this before it acts.

    Forbidden (403) when the action is not this actor's to take on this
    assignment; Conflict (409) while an extension request waits for a decision;
    otherwise InvalidTransition (409), naming the actions the actor may take now.
    """
    offered = available_actions(actor, a, case)
    if action in offered:
        return
    if not _acts_for(actor, a, case, action):
        raise Forbidden()
    state = AssignmentState(a.state)
    if action == Action.REQUEST_EXTENSION and case.extension_pending and action in rules.ALLOWED[state]:
        raise Conflict("extension_already_pending")
    raise InvalidTransition(state.value, action.value, [x.value for x in offered])


class Colleague(Protocol):
    @property
    def role(self) -> Role: ...

    @property
    def department_id(self) -> int: ...

    @property
    def active(self) -> bool: ...


def may_carry(user: Colleague, department_id: int) -> bool:
    """Whether USER may be the 承办人 of the department's work: an active liaison or head of it."""
    return user.active and user.role in DEPARTMENT_ROLES and user.department_id == department_id
