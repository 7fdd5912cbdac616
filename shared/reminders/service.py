"""The reminder pass (催办): find what is due, tell each person once, in one email.

A pass (beat runs it every ten minutes; ``gongzhi remind`` runs one by hand):

1. does nothing on a non-working day or outside working hours — the next
   working day's first pass picks everything up, because stages are derived
   from the deadlines, not from a queue of timers;
2. finds the due assignments with a few set-based queries over indexed columns
   (state + feedback_due_at, state + acceptance_due_at, pending extensions,
   assignments awaiting a decision) — never the whole table, never one query
   per assignment; people are looked up in batches;
3. computes each assignment's stage per audience with the pure ladder in
   ``rules`` and the working calendar, and addresses it:

   - deadline stages for the department (催签, 预警, 今日到期, 逾期): while the
     assignment is not yet accepted (dispatched) to the department's liaisons
     as a group (plus the assignee, if one is set); once it is accepted it has
     an owner, and they go to its assignee alone — to the liaisons again when
     it has no assignee or he is no longer active;
   - 催办 to the department's heads as a group, 督办 to them and to the case's
     coordinator; pending decisions to the heads and/or the coordinator;
     feedback awaiting sign-off (审签) longer than
     `reminder_signoff_after_working_days` to the department's heads;
   - the department's heads stand in when it has no active liaison at all;

   a group notice is one row, however many people the department has: its
   members are resolved when the digests are made;
4. holds a transaction-scoped lock, so a second worker or beat running the
   same pass leaves (PostgreSQL; SQLite serialises writers anyway), and keeps
   only the notices not written before — one per (stage, assignment,
   addressee, local date);
5. folds everything waiting for each person (these notices and earlier event
   notices) into one digest email per person per pass — whatever his
   notify_mode, which only governs event emails — and writes the notices,
   already stamped with the email or pass that carried them, and the emails,
   each in a few multi-row statements, all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, union_all
from sqlmodel import Session

from shared.assignments import status
from shared.assignments.models import (
    Assignment,
    AssignmentState,
    ExtensionRequest,
    ExtensionState,
)
from shared.calendar.service import WorkingCalendar, working_calendar
from shared.cases.models import Case
from shared.clock import Clock, as_utc
from shared.feedback.models import Feedback
from shared.notifications import service as notices
from shared.notifications.service import Group, NewNotice
from shared.reminders import rules
from shared.reminders.models import ReminderNotice
from shared.reminders.rules import Audience, DeadlineFacts, Ladder, Stage
from shared.settings import Settings, get_settings

# Notices older than this have done their job (dedup is per local date) and are pruned.
RETENTION_DAYS = 60


@dataclass
class PassResult:
    local_date: date
    ran: bool
    skipped: str | None = None  # "non_working_day" | "outside_hours"
    found: int = 0  # assignments and requests the queries returned
    notices: Counter[str] = field(default_factory=Counter)  # new notices by kind
    emails: int = 0
    digests: int = 0
    singles: int = 0
    recipients: int = 0
    queued: list[tuple[str, str]] = field(default_factory=list)  # (to, subject), for the CLI

    def as_dict(self) -> dict[str, Any]:
        return {
            "local_date": self.local_date.isoformat(), "ran": self.ran, "skipped": self.skipped,
            "found": self.found, "notices": dict(self.notices), "emails": self.emails,
            "digests": self.digests, "singles": self.singles, "recipients": self.recipients,
        }


@dataclass(frozen=True)
class _Due:
    """One assignment (or request) and who, by audience, must hear which stage."""

    assignment_id: int
    department_id: int
    assignee_id: int | None
    coordinator_id: int
    stages: dict[Audience, Stage]
    params: dict[Stage, dict[str, Any]]
    exclude: int | None = None  # someone not to remind of his own request
    accepted: bool = False  # has an owner: deadline reminders go to the assignee


def _start_of_local_day(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time.min, tzinfo=settings.tz).astimezone(UTC)


class _Counter:
    """Working-day counts for many timestamps, computed once per local date."""

    def __init__(self, cal: WorkingCalendar, now: datetime) -> None:
        self.cal, self.now = cal, now
        self._since: dict[date, int] = {}
        self._until: dict[date, int] = {}

    def since(self, at: datetime) -> int:
        """Working days after AT's local date, up to today."""
        day = self.cal.local_date(at)
        if day not in self._since:
            self._since[day] = self.cal.working_days_between(at, self.now)
        return self._since[day]

    def until(self, at: datetime) -> int:
        """Working days after today, up to AT's local date."""
        day = self.cal.local_date(at)
        if day not in self._until:
            self._until[day] = self.cal.working_days_between(self.now, at)
        return self._until[day]


def _t(model: Any) -> Any:
    """A model's Table for Core queries (typed loosely: SQLModel's stubs fight select())."""
    return model.__table__


def _coordinators(session: Session, case_ids: set[int]) -> dict[int, int]:
    """coordinator_id by case id, fetched by primary key for the cases at hand only.

    Joining ``case`` inside the search let the planner hash-join (seq-scan) all
    cases when it overestimated the due rows; primary-key lookups cost a few ms.
    """
    wanted = sorted(case_ids)
    out: dict[int, int] = {}
    if not wanted:
        return out
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_PG_COORDINATORS, {"ids": wanted})
        return {row.id: row.coordinator_id for row in rows}
    c = _t(Case).c
    for chunk in notices.chunks(wanted):
        out.update({row.id: row.coordinator_id
                    for row in session.execute(select(c.id, c.coordinator_id).where(c.id.in_(chunk)))})
    return out


_PG_COORDINATORS = text('SELECT id, coordinator_id FROM "case" WHERE id = ANY(CAST(:ids AS integer[]))')


def _deadline_due(
    session: Session, counter: _Counter, now: datetime, today: date, soon: datetime, ladder: Ladder
) -> list[_Due]:
    """Active assignments overdue or due soon, or waiting past their acceptance time.

    Range scans (ix_assignment_state_due, ix_assignment_state_acceptance) over
    ``assignment`` alone, then the coordinators of the distinct cases.  Overdue,
    due soon (up to `soon`, from status.due_soon_cutoff) and acceptance overdue
    are status's conditions, in SQL and then in Python.
    """
    a = _t(Assignment).c
    columns = (a.id, a.case_id, a.department_id, a.assignee_id, a.state, a.acceptance_due_at,
               a.feedback_due_at)
    # Overdue and due soon are disjoint (before `now`, from `now` on): UNION ALL gives each its
    # own index range, where an OR of the two was a filter over every active row.
    by_feedback = union_all(select(*columns).where(status.overdue_sql(now, a)),
                            select(*columns).where(status.due_soon_sql(now, soon, a)))
    by_acceptance = select(*columns).where(status.acceptance_overdue_sql(now, a))
    rows = {row.id: row for stmt in (by_feedback, by_acceptance) for row in session.execute(stmt)}
    found: list[tuple[Any, dict[Audience, Stage], dict[Stage, dict[str, Any]]]] = []
    for row in rows.values():
        overdue = status.is_overdue(row.state, row.feedback_due_at, now)
        facts = DeadlineFacts(
            dispatched=row.state == AssignmentState.DISPATCHED.value,
            acceptance_overdue=status.is_acceptance_overdue(row.state, row.acceptance_due_at, now),
            overdue=overdue,
            overdue_working_days=counter.since(row.feedback_due_at) if overdue else 0,
            due_today=not overdue and counter.cal.local_date(row.feedback_due_at) == today,
            working_days_ahead=0 if overdue else counter.until(row.feedback_due_at),
            due_soon=status.is_due_soon(row.state, row.feedback_due_at, now, soon),
        )
        stages = rules.deadline_stages(facts, ladder)
        if not stages:
            continue
        days = facts.overdue_working_days if overdue else facts.working_days_ahead
        params: dict[Stage, dict[str, Any]] = {s: {"days": days} for s in stages.values()}
        if Stage.ESCALATION in params:
            params[Stage.ESCALATION]["threshold"] = ladder.escalate_after_working_days
        found.append((row, stages, params))
    coordinators = _coordinators(session, {row.case_id for row, _s, _p in found})
    return [
        _Due(row.id, row.department_id, row.assignee_id, coordinators.get(row.case_id, 0), stages, params,
             accepted=row.state != AssignmentState.DISPATCHED.value)
        for row, stages, params in found
    ]


def _decisions_due(session: Session, counter: _Counter, cutoff: datetime, ladder: Ladder) -> list[_Due]:
    """Extensions, feedback and returns waiting for someone's decision since before today."""
    ta, te = _t(Assignment), _t(ExtensionRequest)
    a, e = ta.c, te.c
    # (case_id, a _Due without its coordinator yet)
    found: list[tuple[int, _Due]] = []
    extensions = (
        select(e.id, e.requested_at, e.requested_by, e.extra_working_days, e.reason, a.id.label("assignment_id"),
               a.case_id, a.department_id, a.assignee_id)
        .select_from(te.join(ta, a.id == e.assignment_id))
        .where(e.state == ExtensionState.PENDING.value, e.requested_at < cutoff, status.active_sql(a))
    )
    for row in session.execute(extensions):
        waiting = counter.since(row.requested_at)
        if waiting < ladder.decision_after_working_days:
            continue
        params = {"extension_id": row.id, "days": row.extra_working_days, "reason": row.reason,
                  "waiting": waiting}
        stages = {Audience.HEADS: Stage.EXTENSION_PENDING, Audience.COORDINATOR: Stage.EXTENSION_PENDING}
        found.append((row.case_id, _Due(row.assignment_id, row.department_id, row.assignee_id, 0, stages,
                                        {Stage.EXTENSION_PENDING: params}, exclude=row.requested_by)))

    # Submitting bumps the assignment, so a submitted assignment's updated_at is
    # its latest submission: no need to aggregate feedback rows.
    reviews = (
        select(a.id, a.case_id, a.department_id, a.assignee_id, a.updated_at)
        .where(a.state == AssignmentState.SUBMITTED.value, a.updated_at < cutoff)
    )
    for row in session.execute(reviews):
        at = as_utc(row.updated_at)
        waiting = counter.since(at)
        if waiting < ladder.decision_after_working_days:
            continue
        params = {"submitted_at": at.isoformat(), "waiting": waiting}
        found.append((row.case_id, _Due(row.id, row.department_id, row.assignee_id, 0,
                                        {Audience.COORDINATOR: Stage.REVIEW_PENDING},
                                        {Stage.REVIEW_PENDING: params})))

    # Waiting since the feedback that waits: its submission, whatever touched the assignment since (催办 …).
    tf = _t(Feedback)
    f = tf.c
    signoffs = (
        select(a.id, a.case_id, a.department_id, a.assignee_id, func.max(f.submitted_at).label("submitted_at"))
        .select_from(ta.join(tf, f.assignment_id == a.id))
        .where(a.state == AssignmentState.AWAITING_SIGNOFF.value)
        .group_by(a.id, a.case_id, a.department_id, a.assignee_id)
    )
    for row in session.execute(signoffs):
        at = as_utc(row.submitted_at)
        if at >= cutoff:
            continue
        waiting = counter.since(at)
        if waiting < ladder.signoff_after_working_days:
            continue
        params = {"submitted_at": at.isoformat(), "waiting": waiting}
        found.append((row.case_id, _Due(row.id, row.department_id, row.assignee_id, 0,
                                        {Audience.HEADS: Stage.SIGNOFF_PENDING},
                                        {Stage.SIGNOFF_PENDING: params})))

    returns = (
        select(a.id, a.case_id, a.department_id, a.assignee_id, a.updated_at, a.return_reason,
               a.return_note, a.needs_decision)
        .where(a.state == AssignmentState.RETURNED.value, a.updated_at < cutoff)
    )
    for row in session.execute(returns):
        waiting = counter.since(row.updated_at)
        if waiting < ladder.decision_after_working_days:
            continue
        params = {"return_reason": str(row.return_reason) if row.return_reason else None,
                  "note": row.return_note, "needs_decision": bool(row.needs_decision), "waiting": waiting}
        found.append((row.case_id, _Due(row.id, row.department_id, row.assignee_id, 0,
                                        {Audience.COORDINATOR: Stage.RETURN_PENDING},
                                        {Stage.RETURN_PENDING: params})))
    coordinators = _coordinators(session, {case_id for case_id, _d in found})
    return [replace(d, coordinator_id=coordinators.get(case_id, 0)) for case_id, d in found]


def _notices_for(due: list[_Due], session: Session, today: date) -> list[NewNotice]:
    """Address each stage: to a person (owner, coordinator) or to the department's liaisons or heads."""
    people = notices.users_by_id(
        session, {i for d in due for i in (d.assignee_id, d.coordinator_id) if i is not None}
    )
    out: list[NewNotice] = []
    for d in due:
        for aud, stage in d.stages.items():
            params = d.params[stage]
            if aud == Audience.COORDINATOR or (aud == Audience.LIAISONS and d.accepted and d.assignee_id in people):
                # Accepted work has an owner: its deadline reminders go to him, not the whole department.
                person = people.get(d.coordinator_id if aud == Audience.COORDINATOR else d.assignee_id or 0)
                if person is None or person.id == d.exclude or not person.wants(stage.value):
                    continue
                out.append(NewNotice(key=rules.reminder_key(stage.value, d.assignment_id, person.id, today),
                                     kind=stage.value, recipient=person, assignment_id=d.assignment_id,
                                     params=params))
                continue
            out.append(NewNotice(
                key=rules.group_reminder_key(stage.value, d.assignment_id, aud.value, d.department_id, today),
                kind=stage.value, recipient=None, assignment_id=d.assignment_id, params=params,
                group=Group(d.department_id, aud.value), assignee=people.get(d.assignee_id or 0), exclude=d.exclude,
            ))
    return out


def _take_pass_lock(session: Session) -> bool:
    """One pass at a time: a second worker or beat finds it held and leaves the work to the first.

    SQLite transactions are serialised already (BEGIN IMMEDIATE); on PostgreSQL
    a transaction-scoped advisory lock, released at commit or rollback.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PASS_LOCK}))


# A constant of our own for pg_try_advisory_xact_lock ("GZ-REMIND" in ASCII, folded into a bigint).
_PASS_LOCK = int.from_bytes(b"GZREMIND", "big") & 0x7FFF_FFFF_FFFF_FFFF


def ladder_from(settings: Settings) -> Ladder:
    """The ladder as configured (GONGZHI_REMINDER_*)."""
    return Ladder(
        due_soon_working_days=settings.reminder_due_soon_working_days,
        urge_after_working_days=settings.reminder_urge_after_working_days,
        escalate_after_working_days=settings.reminder_escalate_after_working_days,
        decision_after_working_days=settings.reminder_decision_after_working_days,
        signoff_after_working_days=settings.reminder_signoff_after_working_days,
    )


def run_pass(
    session: Session, clock: Clock, settings: Settings | None = None, *, ladder: Ladder | None = None
) -> PassResult:
    """One reminder pass in the caller's transaction; the caller commits (the after-commit hook wakes the relay)."""
    settings = settings or get_settings()
    ladder = ladder or ladder_from(settings)
    now = clock.now()
    cal = working_calendar(session, settings)
    local_now = now.astimezone(settings.tz)
    today = local_now.date()
    result = PassResult(local_date=today, ran=False)
    if not cal.is_working_day(today):
        result.skipped = "non_working_day"
        return result
    if not rules.within_sending_hours(local_now, settings.working_hours_start, settings.close_of_business):
        result.skipped = "outside_hours"
        return result
    if not _take_pass_lock(session):
        result.skipped = "another_pass_running"
        return result
    result.ran = True
    counter = _Counter(cal, now)
    # The 预警 window, as the queue and the pages draw it.
    soon = status.due_soon_cutoff(cal, now, ladder.due_soon_working_days)
    cutoff = _start_of_local_day(today, settings)
    due = _deadline_due(session, counter, now, today, soon, ladder) + _decisions_due(
        session, counter, cutoff, ladder
    )
    result.found = len(due)
    candidates = _notices_for(due, session, today)
    # Under the lock, what is not written yet is new: told once per key, however many passes run.
    told = notices.existing_keys(session, [n.key for n in candidates])
    new = [n for n in candidates if n.key not in told]
    result.notices = Counter(n.kind for n in new)
    delivery = notices.deliver_waiting(session, now, settings, fresh=new)
    result.emails, result.digests, result.singles = delivery.emails, delivery.digests, delivery.singles
    result.recipients = len(delivery.recipients)
    result.queued = delivery.queued
    _prune(session, today)
    return result


def _prune(session: Session, today: date) -> None:
    t = ReminderNotice.__table__  # type: ignore[attr-defined]
    session.execute(
        delete(t).where(t.c.local_date < today - timedelta(days=RETENTION_DAYS), t.c.digest_key.is_not(None))
    )
