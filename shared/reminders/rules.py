"""The reminder ladder as pure rules: which stage an assignment is at, for whom.

Everything is counted in working days in local time; the caller supplies the
counts (from the working calendar), so these functions need no I/O.

One assignment yields at most one *deadline* stage per audience: the most
urgent one.  An assignment three working days overdue is 督办 for the
coordinator and the head and 逾期 for the liaisons — never 逾期 and 催办 and
督办 to the same person on the same morning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum


class Stage(StrEnum):
    """Reminder stages, most urgent first.  The values appear in dedup keys and opt-out lists."""

    ESCALATION = "escalation"  # 督办 — cannot be opted out of
    URGE = "urge"  # 催办通知 to the department head
    OVERDUE = "overdue"  # 逾期, daily to the liaisons
    DUE_TODAY = "due_today"  # 今日到期
    ACCEPT_OVERDUE = "accept_overdue"  # 催签
    DUE_SOON = "due_soon"  # 预警
    EXTENSION_PENDING = "extension_pending"  # 延期申请待审批
    SIGNOFF_PENDING = "signoff_pending"  # 反馈待审签, to the department's heads
    REVIEW_PENDING = "review_pending"  # 反馈待审核
    RETURN_PENDING = "return_pending"  # 退回待处理 / 待审定


class EventKind(StrEnum):
    """Things that happened to an assignment, told to the people concerned."""

    DISPATCHED = "dispatched"
    RETURNED = "returned"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_DECIDED = "extension_decided"
    SIGNOFF_REQUESTED = "signoff_requested"  # feedback waits for the head's sign-off (审签)
    SIGNOFF_SENT_BACK = "signoff_sent_back"  # the head sent it back to the liaison
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    CANCELLED = "cancelled"
    ASSIGNED = "assigned"  # 交办: the work was handed to this person (承办人)


class Audience(StrEnum):
    LIAISONS = "liaisons"  # the assignee once accepted; before that (or without one) all liaisons
    HEADS = "heads"  # the department's heads
    COORDINATOR = "coordinator"  # the case's coordinator


# Display and subject order: a digest lists its most urgent group first and
# names that group in its subject.
GROUP_ORDER: tuple[str, ...] = (*(s.value for s in Stage), "events")
URGENCY = {name: rank for rank, name in enumerate(GROUP_ORDER)}

# 督办 is the one notice nobody can turn off.
MANDATORY_KINDS = frozenset({Stage.ESCALATION.value})
# What a user may opt out of (the preferences page lists these).
OPTIONAL_KINDS: tuple[str, ...] = tuple(
    k for k in (*(s.value for s in Stage), *(e.value for e in EventKind)) if k not in MANDATORY_KINDS
)

DEADLINE_STAGES = frozenset(
    {Stage.ESCALATION, Stage.URGE, Stage.OVERDUE, Stage.DUE_TODAY, Stage.ACCEPT_OVERDUE, Stage.DUE_SOON}
)


@dataclass(frozen=True)
class Ladder:
    """The thresholds, in working days.  Defaults follow the product brief."""

    # 预警 when due within this many working days: the window of status.due_soon_cutoff.
    due_soon_working_days: int = 2
    urge_after_working_days: int = 1  # 催办通知 to the head when overdue this long
    escalate_after_working_days: int = 3  # 督办 to the coordinator (and head)
    # A pending decision (extension, review, return) waits this long before the
    # daily reminder starts; the event notice itself covers the first day.
    decision_after_working_days: int = 1
    # Feedback waiting for the head's sign-off (审签) this long is a daily reminder to the heads.
    signoff_after_working_days: int = 1


DEFAULT_LADDER = Ladder()


@dataclass(frozen=True)
class DeadlineFacts:
    """What the calendar says about one active (dispatched or accepted) assignment, now.

    overdue, acceptance_overdue and due_soon are decided by shared/assignments/status.py,
    as everywhere else; the ladder only picks the stage.
    """

    dispatched: bool  # still waiting to be accepted
    acceptance_overdue: bool  # status.is_acceptance_overdue
    overdue: bool  # status.is_overdue: strictly past the feedback due time
    overdue_working_days: int  # working days after the due day, up to today
    due_today: bool  # due later today
    working_days_ahead: int  # working days from today to the due day (0 when due today or overdue)
    due_soon: bool = False  # status.is_due_soon, with the ladder's window


def deadline_stages(facts: DeadlineFacts, ladder: Ladder = DEFAULT_LADDER) -> dict[Audience, Stage]:
    """The one most urgent deadline stage per audience (absent: nothing to say to them)."""
    stages: dict[Audience, Stage] = {}
    if facts.overdue:
        stages[Audience.LIAISONS] = Stage.OVERDUE
        if facts.overdue_working_days >= ladder.escalate_after_working_days:
            stages[Audience.HEADS] = Stage.ESCALATION
            stages[Audience.COORDINATOR] = Stage.ESCALATION
        elif facts.overdue_working_days >= ladder.urge_after_working_days:
            stages[Audience.HEADS] = Stage.URGE
    elif facts.due_today:
        stages[Audience.LIAISONS] = Stage.DUE_TODAY
    elif facts.dispatched and facts.acceptance_overdue:
        stages[Audience.LIAISONS] = Stage.ACCEPT_OVERDUE
    elif facts.due_soon:
        stages[Audience.LIAISONS] = Stage.DUE_SOON
    return stages


def more_urgent(a: str, b: str) -> str:
    return a if URGENCY[a] <= URGENCY[b] else b


def wants(kind: str, opt_out: list[str] | None) -> bool:
    """Does a user with this opt-out list receive KIND?  督办 always goes out."""
    return kind in MANDATORY_KINDS or kind not in (opt_out or ())


def within_sending_hours(local_now: datetime, start: time, close: time) -> bool:
    """Reminders go out between the start of work and close of business, local time."""
    return start <= local_now.time() < close


def reminder_key(stage: str, assignment_id: int, recipient_id: int, local_day: date) -> str:
    """At most one notice per stage, assignment, recipient and local date."""
    return f"reminder:{stage}:{assignment_id}:{recipient_id}:{local_day.isoformat()}"


def event_key(event: str, assignment_id: int, version: int, recipient_id: int, ref: int | None = None) -> str:
    """The assignment's version tells a re-dispatch from the first dispatch."""
    tail = f":{ref}" if ref is not None else ""
    return f"event:{event}:{assignment_id}:v{version}:{recipient_id}{tail}"


def group_reminder_key(stage: str, assignment_id: int, audience: str, department_id: int, local_day: date) -> str:
    """At most one notice per stage, assignment, department group and local date."""
    return f"reminder:{stage}:{assignment_id}:{audience}@{department_id}:{local_day.isoformat()}"


def digest_key(recipient_id: int, local_day: date, notice_keys: Iterable[str]) -> str:
    """The email that carries these notices to this person: the same notices always give the same key."""
    digest = hashlib.sha256("\n".join(sorted(notice_keys)).encode()).hexdigest()[:20]
    return f"digest:{recipient_id}:{local_day.isoformat()}:{digest}"


def pass_key(local_day: date, notice_keys: Iterable[str]) -> str:
    """Marks the group notices one pass showed in its digests (a group notice has no single email)."""
    digest = hashlib.sha256("\n".join(sorted(notice_keys)).encode()).hexdigest()[:20]
    return f"pass:{local_day.isoformat()}:{digest}"
