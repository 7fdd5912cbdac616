"""The department queue (工作台): counts by bucket and the most urgent active items.

Read by GET /api/v1/queue and by the /queue page, for the user that the one
authentication dependency signed in.  Whose queue a user may read is decided by
`queue_department`; what is open, overdue or due soon by
shared.assignments.status; what each item offers the reader by the item
builder of shared.assignments.queries, for that reader, on every request.

Counting a department's open work costs milliseconds (18,000 open items in the
benchmark), and the queue is read far more often than it changes, so each
process keeps the department's rows (counts and the most urgent items, not
the items as one reader sees them) and serves them while three things hold:

* the department's `queue_stamp.generation` is the one read before they were.
  The DATABASE bumps it (shared.departments.models: triggers on assignment,
  case and extension_request), so every write counts, an UPDATE typed in psql
  as much as a use case's, in whichever process or script it commits;
* the "due soon" cutoff is the same (it moves at local midnight, or with the
  calendar);
* `now` has not passed a due time that the counts or the flags depend on.

One statement reads the stamp on every request; a second reads counts and
items when the kept rows no longer hold.

The JSON API also keeps, with the rows, the bodies it answered (`queue_body`):
serialised, hashed for the ETag and gzip-encoded once.  A body is keyed by the
actions offered on each item, which `available_actions` decides for the reader
of THIS request from the kept rows; so two readers share a body exactly when
every item offers each of them the same actions, and a change of role or
department (read by the sign-in of this request) changes the key at once.
Everything else in a body comes from the kept rows, whose flags hold as long
as the rows do.
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

from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState
from shared.assignments.permissions import CaseFacts, available_actions
from shared.assignments.queries import LIST_COLUMNS, due_soon_cutoff, public_from_row
from shared.assignments.schemas import QueueCounts, QueueOut
from shared.cases.models import Case
from shared.db import UTCDateTime
from shared.departments.models import QueueStamp
from shared.errors import Forbidden
from shared.scope import DEPARTMENT_ROLES
from shared.settings import Settings
from shared.users.models import User

_A = Assignment.__table__.c  # type: ignore[attr-defined]
S = AssignmentState
KEPT_PER_PROCESS = 256  # (department, limit) pairs; the oldest kept is dropped beyond it
BODIES_PER_KEPT = 32  # distinct sets of offered actions per kept rows; the oldest is dropped beyond it
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

    `next_due`: the first due time `now` has not passed; the counts hold until it does.
    """
    def count(condition: Any) -> Any:
        return func.count().filter(condition)

    return select(
        count(status.states_in(_A.state, (S.DISPATCHED,))).label("to_accept"),
        count(status.states_in(_A.state, (S.ACCEPTED,))).label("in_progress"),
        count(status.due_soon_sql(now, soon)).label("due_soon"),
        count(status.overdue_sql(now)).label("overdue"),
        count(status.states_in(_A.state, (S.SUBMITTED,))).label("awaiting_review"),
        type_coerce(func.min(_A.feedback_due_at).filter(status.active_sql(), _A.feedback_due_at >= now),
                    UTCDateTime()).label("next_due"),
    ).where(_A.department_id == department, status.states_in(_A.state, (*status.ACTIVE_STATES, S.SUBMITTED)))


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


@dataclass(frozen=True, slots=True)
class _Kept:
    generation: int
    soon: datetime
    read_at: datetime
    holds_through: datetime | None  # the last instant the counts and flags hold (None: no due time ahead)
    counts: QueueCounts
    rows: Sequence[RowMapping]
    facts: tuple[tuple[_Held, CaseFacts], ...]  # what available_actions reads of each row
    bodies: dict[tuple[tuple[str, ...], ...], QueueBody] = field(default_factory=dict)

    def holds(self, generation: int, soon: datetime, now: datetime) -> bool:
        return (generation == self.generation and soon == self.soon and self.read_at <= now
                and (self.holds_through is None or now <= self.holds_through))


_kept: WeakKeyDictionary[Engine, dict[tuple[int, int], _Kept]] = WeakKeyDictionary()  # per database
_kept_lock = threading.Lock()


def _read(session: Session, department_id: int, now: datetime, soon: datetime, limit: int,
          generation: int) -> _Kept:
    rows = session.execute(QUEUE_FILL, {"department_id": department_id, "now": now, "soon": soon,
                                        "limit": limit}).mappings().all()
    first = rows[0]
    items = [row for row in rows if row["id"] is not None]
    # The flags shown change when `now` passes an acceptance due time too.
    upcoming = [first["next_due"], *(row["acceptance_due_at"] for row in items
                                     if row["state"] == S.DISPATCHED and row["acceptance_due_at"] >= now)]
    known = [t for t in upcoming if t is not None]
    counts = QueueCounts(to_accept=first["to_accept"], in_progress=first["in_progress"],
                         due_soon=first["due_soon"], overdue=first["overdue"],
                         awaiting_review=first["awaiting_review"])
    facts = tuple((_Held(S(row["state"]), row["department_id"], row["return_count"]),
                   CaseFacts(row["case_lead_department_id"], row["case_coordinator_id"],
                             bool(row["extension_pending"]))) for row in items)
    return _Kept(generation, soon, now, min(known) if known else None, counts, items, facts)


def _current(session: Session, actor: User, now: datetime, department_id: int | None, limit: int,
             settings: Settings | None) -> tuple[int, _Kept]:
    dept = queue_department(actor, department_id)
    soon = due_soon_cutoff(session, now, settings)
    generation = session.execute(STAMP, {"department_id": dept}).scalar() or 0
    kept_here = _kept.setdefault(session.get_bind().engine, {})
    kept = kept_here.get((dept, limit))
    if kept is None or not kept.holds(generation, soon, now):
        kept = _read(session, dept, now, soon, limit, generation)
        with _kept_lock:  # requests run in a thread pool
            kept_here.pop((dept, limit), None)
            while len(kept_here) >= KEPT_PER_PROCESS:
                kept_here.pop(next(iter(kept_here)))
            kept_here[(dept, limit)] = kept
    return dept, kept


def queue(session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
          settings: Settings | None = None) -> QueueOut:
    """The queue `actor` may read: counts by bucket and the `limit` most urgent items, as `actor` sees them."""
    dept, kept = _current(session, actor, now, department_id, limit, settings)
    # Built for this reader, every time: what an item offers depends on who asks.
    items = [public_from_row(row, now, actor) for row in kept.rows]
    return QueueOut.model_construct(department_id=dept, counts=kept.counts, items=items)


def queue_body(session: Session, actor: User, now: datetime, department_id: int | None = None, limit: int = 50,
               settings: Settings | None = None) -> QueueBody:
    """`queue(...)` serialised, with its ETag: built once per kept rows and set of offered actions."""
    dept, kept = _current(session, actor, now, department_id, limit, settings)
    offered = tuple(tuple(a.value for a in available_actions(actor, held, case)) for held, case in kept.facts)
    body = kept.bodies.get(offered)
    if body is None:
        items = [public_from_row(row, now, actor) for row in kept.rows]
        json = QueueOut.model_construct(department_id=dept, counts=kept.counts, items=items).model_dump_json().encode()
        # Weak: the same tag stands for the identity and the gzip-encoded representation.
        body = QueueBody(json, f'W/"{hashlib.blake2b(json, digest_size=12).hexdigest()}"')
        with _kept_lock:
            while len(kept.bodies) >= BODIES_PER_KEPT:
                kept.bodies.pop(next(iter(kept.bodies)))
            kept.bodies[offered] = body
    return body
