"""The assignment state machine — pure, no I/O."""

from __future__ import annotations

from enum import StrEnum

from shared.assignments.models import AssignmentState as S
from shared.errors import Conflict, InvalidTransition


class Action(StrEnum):
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 退回
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    SUBMIT = "submit"  # 提交反馈
    APPROVE = "approve"  # 办结
    SEND_BACK = "send_back"  # 退回重办
    CANCEL = "cancel"  # 撤销
    REDISPATCH = "redispatch"  # 重新派发 (after a return)
    # 审签, where the department requires it: its head signs the feedback off or sends it back.
    SIGN_OFF = "sign_off"  # 审签通过
    SEND_BACK_SIGNOFF = "send_back_signoff"  # 审签退回
    ASSIGN = "assign"  # 交办: hand accepted work to a colleague of the department (承办人)
    # Not transitions: the coordinator's notices on any open assignment (shared/supervision).
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 挂牌督办


# Offered on any open assignment (status.OPEN_STATES); they leave the state as it is.
NOTICE_ACTIONS = frozenset({Action.URGE, Action.SUPERVISE})


ALLOWED: dict[S, dict[Action, S]] = {
    S.DISPATCHED: {Action.ACCEPT: S.ACCEPTED, Action.RETURN: S.RETURNED, Action.CANCEL: S.CANCELLED},
    S.ACCEPTED: {
        Action.SUBMIT: S.SUBMITTED,
        Action.REQUEST_EXTENSION: S.ACCEPTED,
        Action.ASSIGN: S.ACCEPTED,
        Action.CANCEL: S.CANCELLED,
    },
    S.AWAITING_SIGNOFF: {
        Action.SIGN_OFF: S.SUBMITTED,
        Action.SEND_BACK_SIGNOFF: S.ACCEPTED,
        Action.CANCEL: S.CANCELLED,
    },
    S.SUBMITTED: {Action.APPROVE: S.DONE, Action.SEND_BACK: S.ACCEPTED, Action.CANCEL: S.CANCELLED},
    S.RETURNED: {Action.REDISPATCH: S.DISPATCHED, Action.CANCEL: S.CANCELLED},
    S.DONE: {},
    S.CANCELLED: {},
}

# Where a step goes instead when the department's head must sign the feedback off first (审签).
SIGNOFF_DETOUR: dict[tuple[S, Action], S] = {(S.ACCEPTED, Action.SUBMIT): S.AWAITING_SIGNOFF}


class FollowUpAction(StrEnum):
    """Transitions no button on the assignment offers: another use case decides them.

    REWORK (重办) reopens approved work after an unsatisfied and unresolved
    satisfaction callback (shared/callbacks/service.py); whether it may happen
    depends on the callback, not on the assignment alone, so it stays out of
    `Action` and out of permissions.available_actions.
    """

    REWORK = "rework"


FOLLOW_UP_ALLOWED: dict[S, dict[FollowUpAction, S]] = {
    S.DONE: {FollowUpAction.REWORK: S.ACCEPTED},
}

# Returned this many times, an assignment is flagged for the coordinator to decide (审定).
RETURNS_BEFORE_DECISION = 2


def allowed_actions(current: S) -> list[str]:
    return sorted(a.value for a in ALLOWED.get(S(current), {}))


def next_state(current: S, action: Action, *, signoff: bool = False) -> S:
    """Where `action` takes an assignment in state `current`.

    `signoff`: the feedback needs the department head's sign-off (审签) before
    the coordinator reviews it, so a submission waits for him instead.
    """
    try:
        target = ALLOWED[S(current)][action]
    except KeyError:
        raise InvalidTransition(S(current).value, action.value, allowed_actions(current)) from None
    return SIGNOFF_DETOUR.get((S(current), action), target) if signoff else target


def follow_up_state(current: S, action: FollowUpAction) -> S:
    """Where a follow-up takes the assignment; 409 when its state does not allow it (only approved work)."""
    try:
        return FOLLOW_UP_ALLOWED[S(current)][action]
    except KeyError:
        raise Conflict("follow_up_not_allowed", action=action.value, current=S(current).value) from None
