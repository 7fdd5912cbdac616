"""The department queue (工作台): counts by bucket and the most urgent active items.

Read by GET /api/v1/queue and by the /queue page, for the user that the one
authentication dependency signed in.  Whose queue a user may read is decided by
`queue_department`; what is open, overdue or due soon by
shared.assignments.status; what each item offers the reader by
shared.assignments.permissions, for that reader.

Counting a department's open work costs milliseconds (18,000 open items in the
benchmark), and the queue is read far more often than it changes, so each
process keeps the department's rows (counts and the most urgent items, not
the items as one reader sees them) per (department, limit), and serves them
while three things hold:

* nothing they were read from changed.  On PostgreSQL the database says so
  (shared.invalidation: triggers on assignment, extension_request and case
  notify the department, a listener drops its rows), so a kept read costs no
  statement; while the listener is not listening nothing is kept.  On SQLite
  the department's `queue_stamp.generation`, which its triggers bump
  (shared.departments.models), is read on every request and must be the one
  read before the rows were;
* the working calendar and the due-soon setting are the ones they were read
  with;
* `now` is within status.unchanged_through: no due time they depend on has
  passed and the due-soon window has not moved.

The JSON API also keeps, with the rows, the answers it gave (`QueueBody`):
serialised, hashed for the ETag and gzip-encoded once, per set of actions the
items offer; each reader's set is worked out once per kept rows (keyed by
permissions.actor_key, which changes with the reader's role or department).
`kept_body` answers from them without a statement or a thread, or says to read.

A liaison's or head's own accepted work (he is its 承办人, `assignee_id`) comes
first in his queue, then the department's most urgent rest.  His own rows are
read once per kept rows and kept with them (`_Kept.own`): they are the same
department's assignments, so whatever drops the department's rows drops his.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Integer, RowMapping, Select, bindparam, func, select, true, type_coerce
from sqlmodel import Session, col

from shared import invalidation
from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.permissions import CaseFacts, actor_key, available_actions
from shared.assignments.queries import LIST_COLUMNS, public_from_row
from shared.assignments.schemas import AssignmentPublic, QueueCounts, QueueOut
from shared.calendar.rules import WorkingCalendar
from shared.calendar.service import recently_checked_calendar, working_calendar
from shared.cases.models import Case
from shared.db import UTCDateTime
from shared.departments.models import QueueStamp
from shared.errors import Forbidden
from shared.scope import DEPARTMENT_ROLES
from shared.settings import Settings, get_settings
from shared.users.models import User

_A = Assignment.__table__.c  # type: ignore[attr-defined]
S = AssignmentState
KEPT_PER_PROCESS = 256  # (department, limit) pairs; the oldest kept is dropped beyond it
BODIES_PER_KEPT = 32  # distinct sets of offered actions per kept rows; the oldest is dropped beyond it
READERS_PER_KEPT = 256  # readers whose set of offered actions is remembered per kept rows
GZIP_MINIMUM_BYTES = 1024  # smaller bodies are sent as they are, as GZipMiddleware does


def queue_department(actor: User, department_id: int | None) -> int:
    """Liaisons and heads read their own department's queue; coordinators, leaders and admins any."""
    if actor.role in DEPARTMENT_ROLES:
        if department_id not in (None, actor.department_id):
            raise Forbidden()
        return actor.department_id
    return department_id if department_id is not None else actor.department_id


def _bucket_counts(department: Any, now: Any, soon: Any) -> Select[Any]:
    """The five counts in one row, from ix_assignment_queue (department, state, due time) alone.

    `next_due`: the first due time `now` has not passed (status.next_due_sql).
    """
    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    return select(
        count(status.states_in(_A.state, (S.DISPATCHED,))).label("to_accept"),
        count(status.states_in(_A.state, (S.ACCEPTED,))).label("in_progress"),
        count(status.due_soon_sql(now, soon)).label("due_soon"),
        count(status.overdue_sql(now)).label("overdue"),
        count(status.states_in(_A.state, (S.AWAITING_SIGNOFF,))).label("awaiting_signoff"),
        count(status.states_in(_A.state, (S.SUBMITTED,))).label("awaiting_review"),
        type_coerce(status.next_due_sql(now), UTCDateTime()).label("next_due"),
    ).where(_A.department_id == department,
            status.states_in(_A.state, (*status.ACTIVE_STATES, S.AWAITING_SIGNOFF, S.SUBMITTED)))


def _most_urgent(department: Any, limit: Any) -> Select[Any]:
    """The department's active items, earliest due first.

    The ids are picked first, from ix_assignment_active_queue alone (department,
    due time, id), then joined to their rows and cases.
    """
    urgent = (
        select(_A.id)
        .where(_A.department_id == department, status.active_sql())
        .order_by(_A.feedback_due_at.asc(), _A.id.asc())
        .limit(limit)
        .subquery("urgent")
    )
    return (
        select(*LIST_COLUMNS)
        .join(urgent, urgent.c.id == _A.id)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
    )


def _queue_fill() -> Select[Any]:
    """Counts and most urgent items of one department in ONE statement, so in one snapshot.

    Parameters: department_id, now, soon, limit.  One row per item (one row
    with NULL item columns when there are none), each carrying the counts.
    """
    department = bindparam("department_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime())
    counts = _bucket_counts(department, now, bindparam("soon", type_=UTCDateTime())).subquery("counts")
    items = _most_urgent(department, bindparam("limit", type_=Integer)).subquery("items")
    return (
        select(counts, items)
        .select_from(counts)
        .outerjoin(items, true())
        .order_by(items.c.feedback_due_at, items.c.id)
    )


QUEUE_FILL = _queue_fill()


def _own_work() -> Select[Any]:
    """A reader's own accepted items in a department, earliest due first (ix_assignment_active_assignee)."""
    own = (
        select(_A.id)
        .where(_A.assignee_id == bindparam("assignee_id", type_=Integer),
               status.states_in(_A.state, (S.ACCEPTED,)),
               _A.department_id == bindparam("department_id", type_=Integer))
        .order_by(_A.feedback_due_at.asc(), _A.id.asc())
        .limit(bindparam("limit", type_=Integer))
        .subquery("own")
    )
    return (
        select(*LIST_COLUMNS)
        .join(own, own.c.id == _A.id)
        .join(Case, Case.id == Assignment.case_id)  # type: ignore[arg-type]
        .order_by(_A.feedback_due_at.asc(), _A.id.asc())
    )


OWN_WORK = _own_work()
STAMP = select(col(QueueStamp.generation)).where(col(QueueStamp.department_id) == bindparam("department_id"))


@dataclass(frozen=True, slots=True)
class _Held:
    state: AssignmentState
    department_id: int
    return_count: int


@dataclass(slots=True)
class QueueBody:
    """One answer of GET /queue: its JSON, weak ETag and, once asked for, its gzip encoding."""

    json: bytes
    etag: str
    _gzip: bytes | None = None

    def gzipped(self, level: int) -> bytes | None:
        """The gzip-encoded body, or None when it is too small to be worth it."""
        if len(self.json) < GZIP_MINIMUM_BYTES:
            return None
        if self._gzip is None:
            self._gzip = gzip.compress(self.json, compresslevel=level, mtime=0)
        return self._gzip


@dataclass(slots=True, weakref_slot=True, eq=False)  # QueueRead.stamp: things built from it are kept weakly by it
class _Kept:
    department_id: int
    calendar: WorkingCalendar  # the due-soon window was worked out on this one…
    working_days: int  # …with this setting
    read_at: datetime
    through: datetime  # status.unchanged_through at read_at
    counts: QueueCounts
    rows: Sequence[RowMapping]
    facts: tuple[tuple[_Held, CaseFacts], ...]  # what available_actions reads of each row
    generation: int | None = None  # SQLite: the department's stamp when read
    bodies: dict[tuple[tuple[Any, ...], ...], QueueBody] = field(default_factory=dict)
    readers: dict[tuple[object, ...], QueueBody] = field(default_factory=dict)
    # Each reader's own accepted rows (承办人), by user id; read once per kept rows.
    own: dict[int, Sequence[RowMapping]] = field(default_factory=dict)

    def holds(self, calendar: WorkingCalendar, working_days: int, now: datetime) -> bool:
        return (calendar is self.calendar and working_days == self.working_days
                and self.read_at <= now <= self.through)


# SQLite: per database, checked against the stamp on every read.
_stamped: WeakKeyDictionary[Engine, dict[tuple[int, int], _Kept]] = WeakKeyDictionary()
_stamped_lock = threading.Lock()
_bodies_lock = threading.Lock()
_urls: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def _store(engine: Engine) -> invalidation.Kept[tuple[int, int], _Kept] | None:
    return invalidation.kept(engine, "queue", invalidation.DEPARTMENT, KEPT_PER_PROCESS)


def _read(session: Session, department_id: int, now: datetime, calendar: WorkingCalendar, working_days: int,
          limit: int, generation: int | None) -> _Kept:
    soon = status.due_soon_cutoff(calendar, now, working_days)
    rows = session.execute(QUEUE_FILL, {"department_id": department_id, "now": now, "soon": soon,
                                        "limit": limit}).mappings().all()
    first = rows[0]
    items = [row for row in rows if row["id"] is not None]
    # The flags shown change when `now` passes an acceptance due time too.
    due_times = [first["next_due"], *(row["acceptance_due_at"] for row in items if row["state"] == S.DISPATCHED)]
    counts = QueueCounts(to_accept=first["to_accept"], in_progress=first["in_progress"],
                         due_soon=first["due_soon"], overdue=first["overdue"],
                         awaiting_signoff=first["awaiting_signoff"], awaiting_review=first["awaiting_review"])
    facts = tuple((_Held(S(row["state"]), row["department_id"], row["return_count"]),
                   CaseFacts(row["case_lead_department_id"], row["case_coordinator_id"],
                             bool(row["extension_pending"]))) for row in items)
    return _Kept(department_id, calendar, working_days, now, status.unchanged_through(calendar, now, due_times),
                 counts, items, facts, generation)


def _current(session: Session, actor: User, now: datetime, department_id: int | None, limit: int,
             settings: Settings | None) -> _Kept:
    settings = settings or get_settings()
    dept = queue_department(actor, department_id)
    calendar = working_calendar(session, settings)
    days = settings.reminder_due_soon_working_days
    engine = session.get_bind().engine
    store = _store(engine)
    key = (dept, limit)
    if store is not None:  # PostgreSQL: kept while the database says nothing changed
        kept = store.get(key)
        if kept is not None and kept.holds(calendar, days, now):
            return kept
        ticket = store.ticket(dept)
        kept = _read(session, dept, now, calendar, days, limit, None)
        if invalidation.may_keep(session):
            store.put(ticket, key, dept, kept)
        return kept
    # SQLite: kept while the department's stamp is the one read before the rows were.
    generation = session.execute(STAMP, {"department_id": dept}).scalar() or 0
    kept_here = _stamped.setdefault(engine, {})
    kept = kept_here.get(key)
    if kept is None or kept.generation != generation or not kept.holds(calendar, days, now):
        kept = _read(session, dept, now, calendar, days, limit, generation)
        with _stamped_lock:  # requests run in a thread pool
            kept_here.pop(key, None)
            while len(kept_here) >= KEPT_PER_PROCESS:
                kept_here.pop(next(iter(kept_here)))
            kept_here[key] = kept
    return kept


def _carries(actor: User, kept: _Kept) -> bool:
    return actor.role in DEPARTMENT_ROLES and actor.department_id == kept.department_id and actor.id is not None


def _own(session: Session | None, actor: User, kept: _Kept, limit: int) -> Sequence[RowMapping] | None:
    """The reader's own rows in the kept department: kept, or read now (None: not kept and no session)."""
    if not _carries(actor, kept):
        return ()
    own = kept.own.get(actor.id)  # type: ignore[arg-type]
    if own is None and session is not None:
        own = session.execute(OWN_WORK, {"assignee_id": actor.id, "department_id": kept.department_id,
                                         "limit": limit}).mappings().all()
        with _bodies_lock:
            while len(kept.own) >= READERS_PER_KEPT:
                kept.own.pop(next(iter(kept.own)))
            kept.own[actor.id] = own  # type: ignore[index]
    return own


def _rows_for(kept: _Kept, own: Sequence[RowMapping], limit: int) -> tuple[list[RowMapping],
                                                                           list[tuple[_Held, CaseFacts]]]:
    """The reader's own items first, then the department's most urgent others, LIMIT in all."""
    if not own:
        return list(kept.rows), list(kept.facts)
    mine = {row["id"] for row in own}
    rows = [*own, *(row for row in kept.rows if row["id"] not in mine)][:limit]
    return rows, [(_Held(S(row["state"]), row["department_id"], row["return_count"]),
                   CaseFacts(row["case_lead_department_id"], row["case_coordinator_id"],
                             bool(row["extension_pending"]))) for row in rows]


@dataclass(frozen=True, slots=True)
class QueueRead:
    """The queue as one reader reads it, before its items are built.

    ``stamp`` is one object for as long as the rows it was read from are the ones
    kept: whatever is built from them (the /queue page's rendered list) may be
    kept against it, in a WeakKeyDictionary, and goes when the rows do.
    """

    department_id: int
    counts: QueueCounts
    rows: list[RowMapping]
    stamp: object

    @property
    def ids(self) -> list[int]:
        return [row["id"] for row in self.rows]

    @property
    def extension_pending(self) -> set[int]:
        """The items with an extension request waiting for a decision."""
        return {row["id"] for row in self.rows if row["extension_pending"]}

    def items(self, actor: User, now: datetime) -> list[AssignmentPublic]:
        # Built for this reader, every time: what an item offers depends on who asks.
        return [public_from_row(row, now, actor) for row in self.rows]


def read(session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
         settings: Settings | None = None) -> QueueRead:
    """The queue `actor` may read: counts by bucket and the `limit` most urgent rows, his own first."""
    kept = _current(session, actor, now, department_id, limit, settings)
    rows, _facts = _rows_for(kept, _own(session, actor, kept, limit) or (), limit)
    return QueueRead(kept.department_id, kept.counts, rows, kept)


def queue(session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
          settings: Settings | None = None) -> QueueOut:
    """The queue `actor` may read: counts by bucket and the `limit` most urgent items, as `actor` sees them."""
    found = read(session, actor, now, department_id, limit, settings)
    return QueueOut.model_construct(department_id=found.department_id, counts=found.counts,
                                    items=found.items(actor, now))


def _body(kept: _Kept, actor: User, now: datetime, own: Sequence[RowMapping], limit: int) -> QueueBody:
    """The kept answer for this reader: found by who he is, or by the actions offered, or built once.

    A reader with work of his own gets his own order: his key and the body's name his items.
    """
    own_ids = tuple(row["id"] for row in own)
    reader = (*actor_key(actor), own_ids)
    body = kept.readers.get(reader)
    if body is not None:
        return body
    rows, facts = _rows_for(kept, own, limit)
    offered = (own_ids, *(tuple(a.value for a in available_actions(actor, held, case)) for held, case in facts))
    body = kept.bodies.get(offered)
    if body is None:
        items = [public_from_row(row, now, actor) for row in rows]
        json = QueueOut.model_construct(department_id=kept.department_id, counts=kept.counts,
                                        items=items).model_dump_json().encode()
        # Weak: the same tag stands for the identity and the gzip-encoded representation.
        body = QueueBody(json, f'W/"{hashlib.blake2b(json, digest_size=12).hexdigest()}"')
    with _bodies_lock:
        while len(kept.bodies) >= BODIES_PER_KEPT:
            kept.bodies.pop(next(iter(kept.bodies)))
        body = kept.bodies.setdefault(offered, body)
        while len(kept.readers) >= READERS_PER_KEPT:
            kept.readers.pop(next(iter(kept.readers)))
        kept.readers[reader] = body
    return body


def queue_body(session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
               settings: Settings | None = None) -> QueueBody:
    """`queue(...)` serialised, with its ETag: built once per kept rows and set of offered actions."""
    kept = _current(session, actor, now, department_id, limit, settings)
    return _body(kept, actor, now, _own(session, actor, kept, limit) or (), limit)


def kept_body(engine: Engine, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
              settings: Settings | None = None) -> QueueBody | None:
    """`queue_body(...)` without a statement when it is kept and holds (PostgreSQL); else None: read it.

    Scoping is decided first, as on every read: 403 for another department's queue.
    """
    dept = queue_department(actor, department_id)
    store = _store(engine)
    if store is None:
        return None
    kept = store.get((dept, limit))
    if kept is None:
        return None
    settings = settings or get_settings()
    url = _urls.get(engine)
    if url is None:
        url = _urls[engine] = str(engine.url)
    calendar = recently_checked_calendar(url, settings)
    if calendar is None or not kept.holds(calendar, settings.reminder_due_soon_working_days, now):
        return None
    own = _own(None, actor, kept, limit)
    if own is None:  # his own rows are not read yet: that takes a statement
        return None
    return _body(kept, actor, now, own, limit)
