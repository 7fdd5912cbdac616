"""Notices to people, and the emails that carry them.

A *notice* (``reminder_notice`` row) is one thing one person — or one
department's liaisons or heads, as a group — must hear about one assignment: a
reminder stage (逾期, 督办 …) or an event (dispatched, returned …).  Its unique
key — stable ids plus the local date or the assignment's version — makes it
happen once, however often it is produced.

How a notice reaches its recipient depends on his preference:

- **immediate**: an event becomes one email at once, in the transaction of the
  change (an immediate user asked to hear of events at night too, and does).
- **digest** (the default): an event notice waits (``digest_key`` NULL) for the
  next reminder pass.  The pass runs only in working hours on working days, so
  a digest user is not mailed at night.

Reminders (逾期, 催办 …) always go out with the pass, and each pass folds
everything for a person into **one** email, whatever his mode: an immediate
user with 800 due items gets one digest, not 800 emails.

``deliver_waiting`` claims waiting notices (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite serialises writers) and stamps each with the outbox key of
the email that carries it; the pass's new reminders are written already
stamped, so two passes at once never mail the same notice.

Before a notice goes into an email it is read again against its assignment as
it is at that moment (``currency``): a digest never asks for what was done
since it was queued — it drops the item, or tells what became of it — and a
digest with nothing still true is not sent; its notices are settled.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from shared.assignments.models import Assignment, ExtensionRequest, ExtensionState
from shared.cases.models import Case
from shared.clock import Clock, as_utc
from shared.db import UTCDateTime
from shared.events.models import Event
from shared.feedback.models import Feedback
from shared.notifications import currency, render
from shared.outbox import service as outbox
from shared.reminders import rules
from shared.reminders.models import ReminderNotice
from shared.reminders.rules import EventKind
from shared.settings import Settings, get_settings
from shared.users.models import NotifyMode, Role, User

CHUNK = 500  # ids per IN (…) and rows per INSERT: well under SQLite's parameter limit
# Marks a waiting notice whose recipient left (inactive or deleted): never mailed.
DROPPED = "dropped"
# Marks waiting notices that had nothing left to say when their digest was composed:
# what they asked for had moved on, or was no longer the reader's to do.  Settled, never mailed.
SETTLED = "settled:stale"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ------------------------------------------------------------------ recipients


@dataclass(frozen=True)
class Recipient:
    id: int
    name: str
    email: str
    language: str
    notify_mode: str
    opt_out: tuple[str, ...]
    role: str
    department_id: int

    def wants(self, kind: str) -> bool:
        return rules.wants(kind, list(self.opt_out))

    @property
    def immediate(self) -> bool:
        return self.notify_mode == NotifyMode.IMMEDIATE.value


_u: Any = User.__table__.c  # type: ignore[attr-defined]
_USER_COLUMNS = (_u.id, _u.name, _u.email, _u.language, _u.notify_mode, _u.notify_opt_out, _u.role,
                 _u.department_id)


def _recipient(row: Any) -> Recipient:
    return Recipient(id=row.id, name=row.name, email=row.email, language=row.language,
                     notify_mode=str(row.notify_mode), opt_out=tuple(row.notify_opt_out or ()),
                     role=str(row.role), department_id=row.department_id)


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, Recipient]:
    """Active users by id, in batches."""
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, Recipient] = {}
    for chunk in chunks(wanted):
        stmt = select(*_USER_COLUMNS).where(_u.id.in_(chunk), _u.active.is_(True))
        for row in session.execute(stmt):
            out[row.id] = _recipient(row)
    return out


@dataclass
class Members:
    liaisons: list[Recipient] = field(default_factory=list)
    heads: list[Recipient] = field(default_factory=list)


def department_members(session: Session, department_ids: Iterable[int]) -> dict[int, Members]:
    """Active liaisons and heads of the given departments (one query per 500 departments)."""
    wanted = sorted(set(department_ids))
    out: dict[int, Members] = {d: Members() for d in wanted}
    for chunk in chunks(wanted):
        stmt = (
            select(*_USER_COLUMNS)
            .where(_u.department_id.in_(chunk), _u.active.is_(True),
                   _u.role.in_([Role.LIAISON.value, Role.HEAD.value]))
            .order_by(_u.id)
        )
        for row in session.execute(stmt):
            r = _recipient(row)
            members = out[r.department_id]
            (members.heads if r.role == Role.HEAD.value else members.liaisons).append(r)
    return out


def liaison_audience(members: Members, assignee: Recipient | None) -> list[Recipient]:
    """The liaisons plus the assignee; the heads when the department has no liaison at all."""
    people = {r.id: r for r in members.liaisons}
    if assignee is not None:
        people.setdefault(assignee.id, assignee)
    if not people:
        people = {r.id: r for r in members.heads}
    return list(people.values())


# ------------------------------------------------------------------ notices


@dataclass(frozen=True)
class Group:
    """A department's liaisons or heads, as they are when the notice is shown."""

    department_id: int
    audience: str  # rules.Audience.LIAISONS or HEADS


@dataclass(frozen=True)
class NewNotice:
    """A notice to write: to RECIPIENT, or to GROUP (exactly one of them is set)."""

    key: str
    kind: str
    recipient: Recipient | None
    assignment_id: int
    params: dict[str, Any]
    group: Group | None = None
    # Only for showing a group notice in this pass, not stored: the assignment's
    # active assignee (he hears 催签 with the liaisons) and someone not to remind of his own request.
    assignee: Recipient | None = None
    exclude: int | None = None


def insert_notices(
    session: Session, notices: Sequence[NewNotice], now: datetime, settings: Settings,
    *, digest_keys: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """INSERT … ON CONFLICT DO NOTHING; returns {key: id} of the rows actually written.

    Keys are inserted in sorted order so two transactions at once take the
    unique index's locks in the same order (no deadlock; the later one skips
    them all).  A key in DIGEST_KEYS is written already stamped with the email
    (or pass) that carries it, which the caller enqueues in the same transaction.
    """
    if not notices:
        return {}
    stamped = digest_keys or {}
    local_day = now.astimezone(settings.tz).date()
    rows = sorted({n.key: n for n in notices}.items())
    written: dict[str, int] = {}
    if session.get_bind().dialect.name == "postgresql":
        # A handful of array parameters instead of thousands of scalars: the
        # statement stays small however many notices a pass writes.
        for chunk in chunks(rows, 5000):
            result = session.execute(_PG_INSERT, {
                "keys": [k for k, _n in chunk], "kinds": [n.kind for _k, n in chunk],
                "recipients": [n.recipient.id if n.recipient else None for _k, n in chunk],
                "departments": [n.group.department_id if n.group else None for _k, n in chunk],
                "audiences": [n.group.audience if n.group else None for _k, n in chunk],
                "assignments": [n.assignment_id for _k, n in chunk],
                "params": [json.dumps(n.params, ensure_ascii=False) for _k, n in chunk],
                "digests": [stamped.get(k) for k, _n in chunk],
                "local_date": local_day, "created_at": now,
            })
            written.update({row.key: row.id for row in result})
        return written
    table = ReminderNotice.__table__  # type: ignore[attr-defined]
    values = [
        {
            "key": key, "kind": n.kind, "recipient_id": n.recipient.id if n.recipient else None,
            "department_id": n.group.department_id if n.group else None,
            "audience": n.group.audience if n.group else None, "assignment_id": n.assignment_id,
            "local_date": local_day, "created_at": now, "params": n.params, "digest_key": stamped.get(key),
        }
        for key, n in rows
    ]
    # One statement for many rows: SQLAlchemy batches it ("insertmanyvalues").
    stmt = (sqlite.insert(table).on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.id, table.c.key))
    for row in session.execute(stmt, values):
        written[row.key] = row.id
    return written


_PG_INSERT = text("""
    INSERT INTO reminder_notice (key, kind, recipient_id, department_id, audience, assignment_id, local_date,
                                 created_at, params, digest_key)
    SELECT k, kd, r, dp, au, a, :local_date, :created_at, CAST(p AS json), d
    FROM unnest(CAST(:keys AS text[]), CAST(:kinds AS text[]), CAST(:recipients AS integer[]),
                CAST(:departments AS integer[]), CAST(:audiences AS text[]),
                CAST(:assignments AS integer[]), CAST(:params AS text[]), CAST(:digests AS text[]))
         AS t(k, kd, r, dp, au, a, p, d)
    ORDER BY k
    ON CONFLICT (key) DO NOTHING
    RETURNING id, key
""").bindparams(bindparam("created_at", type_=UTCDateTime()))


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of KEYS are notices already (told earlier today, by an earlier pass)."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        return set(session.scalars(_PG_EXISTING, {"keys": wanted}))
    t = ReminderNotice.__table__  # type: ignore[attr-defined]
    found: set[str] = set()
    for chunk in chunks(wanted):
        found.update(session.scalars(select(t.c.key).where(t.c.key.in_(chunk))))
    return found


_PG_EXISTING = text("SELECT key FROM reminder_notice WHERE key = ANY(CAST(:keys AS text[]))")


@dataclass
class Delivery:
    """What one call of deliver_waiting put into the outbox."""

    notices: int = 0
    emails: int = 0
    digests: int = 0
    singles: int = 0  # reminders no longer go out singly; kept for the CLI's report
    dropped: int = 0
    settled: int = 0  # waiting notices whose digest was not sent: none of it was still true
    recipients: set[int] = field(default_factory=set)
    queued: list[tuple[str, str]] = field(default_factory=list)  # (to, subject) of new outbox rows


def deliver_waiting(
    session: Session, now: datetime, settings: Settings | None = None, *, fresh: Sequence[NewNotice] = (),
) -> Delivery:
    """Fold every waiting notice, and the FRESH ones, into one email per person (multi-row INSERTs).

    Waiting notices (events for digest users) are claimed and stamped with the
    email that carries them.  FRESH notices (a pass's new reminders, not in the
    table yet) are written here already stamped: a pass writes each notice once
    and never updates it.  A group notice is shown to every current member of
    its group who wants that kind, and each person sees one deadline stage per
    assignment, the most urgent.
    """
    settings = settings or get_settings()
    local_day = now.astimezone(settings.tz).date()
    t = ReminderNotice.__table__  # type: ignore[attr-defined]
    stmt = (select(t.c.id, t.c.key, t.c.kind, t.c.recipient_id, t.c.assignment_id, t.c.params)
            .where(t.c.digest_key.is_(None)).order_by(t.c.id))
    if session.get_bind().dialect.name == "postgresql":
        # Another pass holding some rows will mail them; take only the rest.
        stmt = stmt.with_for_update(skip_locked=True)
    waiting = list(session.execute(stmt))
    result = Delivery()
    if not waiting and not fresh:
        return result
    groups = [n for n in fresh if n.group is not None]
    members = department_members(session, {n.group.department_id for n in groups if n.group is not None})
    people = users_by_id(session, {row.recipient_id for row in waiting})
    infos = render.load_assignment_info(session, {row.assignment_id for row in waiting}
                                        | {n.assignment_id for n in fresh})

    claimed: dict[int, list[Any]] = defaultdict(list)
    for row in waiting:
        claimed[row.recipient_id].append(row)
    recipients = dict(people)
    # Per person, the fresh notice shown for each (assignment, deadline stage or not): the most urgent.
    shown: dict[int, dict[tuple[int, bool], NewNotice]] = defaultdict(dict)
    for n in fresh:
        for member in _shown_to(n, members):
            recipients.setdefault(member.id, member)
            slot = (n.assignment_id, n.kind in rules.DEADLINE_STAGES)
            held = shown[member.id].get(slot)
            if held is None or rules.more_urgent(n.kind, held.kind) == n.kind:
                shown[member.id][slot] = n

    stamps: dict[str, list[int]] = defaultdict(list)
    carried_by: dict[str, str] = {}  # fresh personal notice -> the email that carries it
    emails: list[outbox.NewMessage] = []
    # Each notice read against its assignment as it is now (shared/notifications/currency.py).
    readings: dict[int, tuple[list[Any], list[NewNotice], list[render.NoticeItem], list[_Read]]] = {}
    for person_id in sorted(set(claimed) | set(shown)):
        person = recipients.get(person_id)
        rows = claimed.get(person_id, [])
        news = list(shown.get(person_id, {}).values())
        items = [render.NoticeItem(id=r.id, key=r.key, kind=r.kind, params=r.params or {},
                                   info=infos[r.assignment_id])
                 for r in rows if r.assignment_id in infos]
        items += [render.NoticeItem(id=0, key=n.key, kind=n.kind, params=n.params, info=infos[n.assignment_id])
                  for n in news if n.assignment_id in infos]
        if person is None or not items:  # he left (inactive or deleted), or so did the work
            stamps[DROPPED].extend(r.id for r in rows)
            result.dropped += len(rows)
            continue
        readings[person_id] = (rows, news, items, _read(items, person))
    changes = latest_changes(session, {r.item.info.id for *_x, read in readings.values() for r in read
                                       if r.verdict == currency.Verdict.MOVED_ON})
    for person_id, (rows, news, items, read) in readings.items():
        person = recipients[person_id]
        visible = _shown(read, changes, person.id)
        if not any(i.moved is None for i in visible):
            # Nothing it would say is still true for him: no email, and the notices
            # are settled so the next pass does not bring them back.
            stamps[SETTLED].extend(r.id for r in rows)
            result.settled += len(rows)
            continue
        # One email per person per pass, whatever his notify_mode: "immediate" is
        # for events, which were mailed when they happened and never wait here.
        key = rules.digest_key(person.id, local_day, (i.key for i in items))
        # A digest of one thing reads best as that one thing's own email.
        email = (render.single_email(person, visible[0], now, settings) if len(visible) == 1
                 else render.digest_email(person, visible, now, settings))
        emails.append(outbox.NewMessage(key=key, kind="reminder.digest", to_address=person.email,
                                        subject=email.subject, body_text=email.body_text,
                                        body_html=email.body_html, recipient_user_id=person.id))
        # Every claimed notice is stamped with the digest, even one not shown in it.
        stamps[key].extend(r.id for r in rows)
        carried_by.update({n.key: key for n in news if n.recipient is not None})
        result.digests += 1
        result.notices += len(items)
        result.recipients.add(person.id)
    if fresh:
        marker = rules.pass_key(local_day, (n.key for n in fresh))
        insert_notices(session, fresh, now, settings,
                       digest_keys={n.key: carried_by.get(n.key, marker) for n in fresh})
    inserted = outbox.enqueue_many(session, emails, now)
    result.queued = [(m.to_address, m.subject) for m in emails if m.key in inserted]
    _stamp(session, stamps)
    result.emails = result.digests + result.singles
    return result


def _shown_to(n: NewNotice, members: dict[int, Members]) -> list[Recipient]:
    """Who sees notice N now: its recipient, or its group's current members; never the excluded."""
    if n.group is None:
        audience = [n.recipient] if n.recipient is not None else []
    else:
        dept = members.get(n.group.department_id) or Members()
        if n.group.audience == rules.Audience.LIAISONS:
            audience = liaison_audience(dept, n.assignee)
        else:
            audience = list(dept.heads)
    return [p for p in audience if p.id != n.exclude and p.wants(n.kind)]


_PG_STAMP = text("""
    UPDATE reminder_notice SET digest_key = s.k
    FROM unnest(CAST(:ids AS integer[]), CAST(:keys AS text[])) AS s(i, k)
    WHERE reminder_notice.id = s.i
""")


def _stamp(session: Session, stamps: dict[str, list[int]]) -> None:
    """Record which email carried each notice (one statement on PostgreSQL)."""
    pairs = sorted((i, key) for key, ids in stamps.items() for i in ids)
    if session.get_bind().dialect.name == "postgresql":
        for chunk in chunks(pairs, 10000):
            session.execute(_PG_STAMP, {"ids": [i for i, _k in chunk], "keys": [k for _i, k in chunk]})
        return
    t = ReminderNotice.__table__  # type: ignore[attr-defined]
    for key, ids in stamps.items():
        for part in chunks(sorted(ids)):
            session.execute(update(t).where(t.c.id.in_(part)).values(digest_key=key))


# ------------------------------------------------------------------ what is still true


@dataclass(frozen=True)
class _Read:
    item: render.NoticeItem  # with the action it asks of this reader
    verdict: currency.Verdict


def _read(items: list[render.NoticeItem], person: Recipient) -> list[_Read]:
    out = []
    actor = currency.actor_of(person)
    for item in items:
        reading = currency.read(item.kind, item.params, item.info, actor)
        out.append(_Read(replace(item, ask=reading.ask.value if reading.ask else None), reading.verdict))
    return out


@dataclass(frozen=True)
class _Latest:
    actor_id: int | None
    change: render.Change


def latest_changes(session: Session, assignment_ids: set[int]) -> dict[int, _Latest]:
    """The newest timeline event of each assignment, with its actor's name (only moved-on ones ask)."""
    out: dict[int, _Latest] = {}
    wanted = sorted(assignment_ids)
    if not wanted:
        return out
    e: Any = Event.__table__  # type: ignore[attr-defined]
    newest = (select(func.max(e.c.id))
              .where(e.c.object_type == "assignment", e.c.object_id.in_(bindparam("ids", expanding=True)))
              .group_by(e.c.object_id))
    stmt = (select(e.c.object_id, e.c.actor_id, e.c.action, e.c.at, _u.name)
            .select_from(e.outerjoin(User.__table__, _u.id == e.c.actor_id))  # type: ignore[attr-defined]
            .where(e.c.id.in_(newest)))
    for chunk in chunks(wanted):
        for row in session.execute(stmt, {"ids": list(chunk)}):
            at = as_utc(row.at)
            out[row.object_id] = _Latest(row.actor_id, render.Change(action=row.action, actor=row.name, at=at))
    return out


def _shown(read: list[_Read], changes: dict[int, _Latest], reader_id: int) -> list[render.NoticeItem]:
    """What one digest shows: current items, one card per (assignment, action asked), most urgent kind
    kept; a request that moved on as what became of it — unless the reader did it himself (he knows),
    or a current card shows the same assignment."""
    current = [r.item for r in read if r.verdict == currency.Verdict.CURRENT]
    best: dict[tuple[int, str], render.NoticeItem] = {}
    out: list[render.NoticeItem] = []
    for item in sorted(current, key=lambda i: (i.rank, i.kind in _EVENT_VALUES, -i.id)):
        if item.ask is None:
            out.append(item)
        elif (item.info.id, item.ask) not in best:
            best[(item.info.id, item.ask)] = item
    out.extend(best.values())
    on_cards = {i.info.id for i in out}
    for r in sorted(read, key=lambda r: -r.item.id):
        latest = changes.get(r.item.info.id)
        if r.verdict != currency.Verdict.MOVED_ON or latest is None or r.item.info.id in on_cards:
            continue
        if latest.actor_id == reader_id:
            continue
        on_cards.add(r.item.info.id)
        out.append(replace(r.item, moved=latest.change))
    return out


_EVENT_VALUES = frozenset(k.value for k in EventKind)


def _enqueue(session: Session, person: Recipient, key: str, kind: str, email: render.RenderedEmail,
             now: datetime) -> bool:
    return outbox.enqueue(session, key=key, kind=kind, to_address=person.email, subject=email.subject,
                          body_text=email.body_text, body_html=email.body_html, now=now,
                          recipient_user_id=person.id)


# ------------------------------------------------------------------ events


def _event_recipients(
    session: Session, event: EventKind, a: Assignment, case: Case, actor: User | None,
    extension: ExtensionRequest | None,
) -> list[Recipient]:
    """Who hears about EVENT.  Nobody is told about what he did himself."""
    members = department_members(session, [a.department_id])[a.department_id]
    extra = users_by_id(session, [i for i in (a.assignee_id, case.coordinator_id,
                                              extension.requested_by if extension else None) if i])
    assignee = extra.get(a.assignee_id) if a.assignee_id else None
    coordinator = extra.get(case.coordinator_id)
    people: list[Recipient] = []
    if event in (EventKind.DISPATCHED, EventKind.APPROVED, EventKind.SENT_BACK, EventKind.SIGNOFF_SENT_BACK,
                 EventKind.CANCELLED):
        # Heads are spared routine news; they hear through 催办/督办 and decisions.
        people = liaison_audience(members, assignee)
    elif event == EventKind.ASSIGNED:
        people = [assignee] if assignee else []  # the colleague it was handed to
    elif event in (EventKind.RETURNED, EventKind.SUBMITTED):
        people = [coordinator] if coordinator else []
    elif event == EventKind.SIGNOFF_REQUESTED:
        # 审签: the department's heads, whoever of them signs first.
        people = list(members.heads)
    elif event == EventKind.EXTENSION_REQUESTED:
        # Either may decide: a head of the department or the case's coordinator.
        people = [*members.heads, *([coordinator] if coordinator else [])]
    elif event == EventKind.EXTENSION_DECIDED:
        people = liaison_audience(members, assignee)
        requester = extra.get(extension.requested_by) if extension else None
        if requester is not None:
            people.append(requester)
        # The due date in force changed (or did not): the coordinator must know
        # when a head decided it.
        if coordinator is not None and (actor is None or actor.id != coordinator.id):
            people.append(coordinator)
    unique = {p.id: p for p in people}
    if actor is not None:
        unique.pop(actor.id or 0, None)
    return list(unique.values())


def _event_params(
    event: EventKind, a: Assignment, actor: User | None, extension: ExtensionRequest | None,
    feedback: Feedback | None, reason: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"actor": actor.name if actor else None}
    if event == EventKind.RETURNED:
        params.update(return_reason=str(a.return_reason) if a.return_reason else None,
                      note=a.return_note or (reason if reason != str(a.return_reason) else None),
                      needs_decision=bool(a.needs_decision))
    elif event in (EventKind.EXTENSION_REQUESTED, EventKind.EXTENSION_DECIDED) and extension is not None:
        params.update(extension_id=extension.id, days=extension.extra_working_days, reason=extension.reason,
                      approved=extension.state == ExtensionState.APPROVED,
                      comment=extension.decision_comment)
    elif event == EventKind.SIGNOFF_SENT_BACK:
        params.update(reason=reason or (feedback.signoff_note if feedback else None))
    elif event in (EventKind.SENT_BACK, EventKind.CANCELLED):
        params.update(reason=reason or (feedback.review_comment if feedback else None) or a.cancel_reason)
    elif event == EventKind.APPROVED and feedback is not None:
        params.update(comment=feedback.review_comment)
    return params


def on_assignment_event(
    session: Session,
    clock: Clock,
    event: str,
    assignment: Assignment,
    *,
    actor: User | None = None,
    extension: ExtensionRequest | None = None,
    feedback: Feedback | None = None,
    reason: str | None = None,
) -> None:
    """Tell the people concerned, in the caller's transaction (call after the change, before commit).

    Immediate users get one email now; digest users find it in their next
    digest.  Opt-outs are honoured.  Calling twice for the same change (same
    assignment version) adds nothing.
    """
    kind = EventKind(event)
    settings = get_settings()
    if assignment.id is None:
        session.flush()
    case = session.get(Case, assignment.case_id)
    if case is None:
        return
    now = clock.now()
    ref = extension.id if extension is not None else (feedback.id if feedback is not None else None)
    params = _event_params(kind, assignment, actor, extension, feedback, reason)
    notices = [
        NewNotice(key=rules.event_key(kind.value, assignment.id or 0, assignment.version, person.id, ref),
                  kind=kind.value, recipient=person, assignment_id=assignment.id or 0, params=params)
        for person in _event_recipients(session, kind, assignment, case, actor, extension)
        if person.wants(kind.value)
    ]
    if not notices:
        return
    # An immediate user's event is its own email, enqueued below: write it stamped with that key.
    immediate = {n.key: n.key for n in notices if n.recipient is not None and n.recipient.immediate}
    written = insert_notices(session, notices, now, settings, digest_keys=immediate)
    fresh = [n for n in notices if n.key in immediate and n.key in written]
    if not fresh:
        return
    session.flush()  # the assignment's current state, for the email
    info = render.load_assignment_info(session, {assignment.id or 0})[assignment.id or 0]
    for n in fresh:
        person = n.recipient
        assert person is not None  # events always have one
        item = render.NoticeItem(id=written[n.key], key=n.key, kind=n.kind, params=n.params, info=info)
        item = _read([item], person)[0].item  # written with the change: true now, so only its ask is new
        _enqueue(session, person, n.key, f"notice.{n.kind}", render.single_email(person, item, now, settings), now)


# ------------------------------------------------------------------ 催办 and 督办 by hand


def on_urge(session: Session, clock: Clock, assignment: Assignment, kind: str, *, actor: User,
            note: str | None) -> int:
    """Email the department's liaisons (the assignee among them) and heads now: a coordinator's
    催办 or 挂牌督办 (shared/supervision).  Not held for a digest, and no opt-out applies: a
    person asked for it by hand.  Keyed by kind, assignment, recipient and local date, so the
    same request on the same day mails nobody twice.  Returns the emails written."""
    settings = get_settings()
    now = clock.now()
    day = now.astimezone(settings.tz).date()
    members = department_members(session, [assignment.department_id])[assignment.department_id]
    assignee = users_by_id(session, [assignment.assignee_id] if assignment.assignee_id else []).get(
        assignment.assignee_id or 0)
    people = {p.id: p for p in [*liaison_audience(members, assignee), *members.heads]}
    people.pop(actor.id or 0, None)
    if not people:
        return 0
    session.flush()  # the assignment as it is now, for the card
    info = render.load_assignment_info(session, {assignment.id or 0})[assignment.id or 0]
    written = 0
    for person in sorted(people.values(), key=lambda p: p.id):
        email = render.urge_email(person, info, kind, actor.name, note, now, settings)
        key = f"{kind}:{assignment.id}:{person.id}:{day.isoformat()}"
        written += _enqueue(session, person, key, f"notice.{kind}", email, now)
    return written
