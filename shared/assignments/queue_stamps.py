"""Queue stamps: every change a department queue shows bumps that department's number, in its own transaction.

The department queue is kept in memory by each API process
(shared.assignments.queue_cache) and checked, on every read, against
`queue_stamp.generation`.  That is only right if no committed change to what a
queue shows can leave the number as it was, so the bump is not left to each use
case: Session events do it for every session of every process.

* Before each flush, the departments of new, changed or deleted assignments
  are noted (both departments when one moves), and so are cases whose
  reference or title changed (the queue shows them next to each item).
* Just before the outermost commit, the noted departments (and those with an
  active assignment on a noted case) are bumped in ONE statement, in
  department order: the rows stay locked only while the commit runs, and two
  transactions bumping the same departments take the locks in the same order,
  so they queue instead of deadlocking.
* An UPDATE/DELETE/INSERT on the assignment or case table issued through
  `session.execute` (no objects to look at) bumps every department.

Code that writes those tables with raw SQL or on a bare Connection must call
`bump` itself (none does today).
Nothing here is imported on purpose by callers: `shared.assignments` imports
this module, and nothing can touch an Assignment without importing that package.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import Connection, event, inspect, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, SessionTransaction
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import col

from shared.assignments.models import Assignment
from shared.assignments.status import ACTIVE_STATES
from shared.cases.models import Case
from shared.departments.models import Department, QueueStamp

_DEPARTMENTS = "queue_stamp.departments"  # session.info: set[int] of departments to bump
_CASES = "queue_stamp.cases"  # session.info: set[int] of cases whose title or reference changed
_ALL = "queue_stamp.all"  # session.info: True when every department must be bumped
_WATCHED_TABLES = frozenset({"assignment", "case"})
_SHOWN_CASE_FIELDS = ("reference", "title")


def bump(conn: Connection, department_ids: Iterable[int] | None) -> None:
    """Add one to these departments' stamps (None: every department), in department order."""
    table = QueueStamp.__table__  # type: ignore[attr-defined]
    source = select(col(Department.id), literal(1)).order_by(col(Department.id))
    if department_ids is None:
        source = source.where(true())  # SQLite needs a WHERE before an upsert's ON CONFLICT
    else:
        ids = sorted(set(department_ids))
        if not ids:
            return
        source = source.where(col(Department.id).in_(ids))
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).from_select(["department_id", "generation"], source)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.department_id],
                                            set_={"generation": table.c.generation + 1}))


def _note(session: OrmSession, key: str, ids: Iterable[int | None]) -> None:
    session.info.setdefault(key, set()).update(i for i in ids if i is not None)


@event.listens_for(OrmSession, "before_flush")
def _collect(session: OrmSession, _flush_context: Any, _instances: Any) -> None:
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Assignment):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            moved = inspect(obj).attrs.department_id.history
            _note(session, _DEPARTMENTS, chain([obj.department_id], moved.deleted or ()))
        elif isinstance(obj, Case) and obj in session.dirty:
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in _SHOWN_CASE_FIELDS):
                _note(session, _CASES, [obj.id])


@event.listens_for(OrmSession, "do_orm_execute")
def _statement_writes(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED_TABLES:
            state.session.info[_ALL] = True


@event.listens_for(OrmSession, "before_commit")
def _bump_noted(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released; the outermost commit (which always comes after) bumps
    session.flush()  # what is still pending gets noted too
    everything = session.info.pop(_ALL, False)
    departments: set[int] = session.info.pop(_DEPARTMENTS, set())
    cases: set[int] = session.info.pop(_CASES, set())
    if not (everything or departments or cases):
        return
    conn = session.connection()
    if everything:
        bump(conn, None)
        return
    if cases:
        departments |= set(conn.execute(
            select(col(Assignment.department_id)).distinct().where(
                col(Assignment.case_id).in_(sorted(cases)), col(Assignment.state).in_(ACTIVE_STATES))
        ).scalars())
    bump(conn, departments)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit has taken them already)
        for key in (_DEPARTMENTS, _CASES, _ALL):
            session.info.pop(key, None)
