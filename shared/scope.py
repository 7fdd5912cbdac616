"""Who may see and touch what — the one module every read goes through.

A case is visible to its lead department, the departments it is shared with,
coordinators, leaders and admins.  To anyone else it does not exist: lookups
answer NotFound (404), never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, cast, event, false, func, or_, true
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from shared.assignments.models import Assignment
from shared.cases.models import Case, CaseShare
from shared.errors import Forbidden, NotFound
from shared.users.models import Role, User

GLOBAL_READERS = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
DEPARTMENT_ROLES = frozenset({Role.LIAISON, Role.HEAD})


def sees_everything(actor: User) -> bool:
    return actor.role in GLOBAL_READERS


class Reach(NamedTuple):
    """All that what a reader sees depends on: every case, a department's (led or shared), or none;
    and whose complainants in full (every case's, or the department's own, as sees_personal_data).

    The SQL conditions below are built from it alone, so it is also the key under which a
    statement carrying one is built once and kept (building and keying a statement afresh cost
    more CPU than PostgreSQL spent answering it)."""

    everything: bool = False
    department: bool = False
    department_id: int | None = None
    every_complainant: bool = False


def reach(actor: User) -> Reach:
    if sees_everything(actor):
        return Reach(everything=True, every_complainant=actor.role == Role.COORDINATOR)
    if actor.role in DEPARTMENT_ROLES:
        return Reach(department=True, department_id=actor.department_id)
    return Reach()


# Made once: building an alias costs more than the rest of the condition (every list of assignments asks).
_SHARE = aliased(CaseShare, name="visible_share")
_LEAD = aliased(Case, name="visible_lead")


def case_visible(actor: User, case_id_column: Any = None) -> ColumnElement[bool]:
    """SQL condition: the case (by id column) is visible to the actor."""
    if case_id_column is None:
        return case_row_visible(actor, Case)
    return column_visible_by_reach(reach(actor), case_id_column)


def column_visible_by_reach(r: Reach, case_id_column: Any) -> ColumnElement[bool]:
    if r.everything:
        return true()
    if not r.department:
        return false()
    # Aliases keep these subqueries from correlating with a Case the outer query joins.
    share, lead = _SHARE, _LEAD
    shared_with_me = (
        select(col(share.case_id))
        .where(col(share.case_id) == case_id_column, col(share.department_id) == r.department_id)
        .correlate_except(share)
        .offset(0)  # probed per row, never hashed (see case_row_visible)
        .exists()
    )
    lead_is_me = (
        select(col(lead.id))
        .where(col(lead.id) == case_id_column, col(lead.lead_department_id) == r.department_id)
        .correlate_except(lead)
        .exists()
    )
    return or_(lead_is_me, shared_with_me)


def case_row_visible(actor: User, row: Any) -> ColumnElement[bool]:
    """case_visible over ROW: Case itself, or an alias of it over a subquery's rows.

    The lead department is read off the row; a share is probed per row.
    """
    return row_visible_by_reach(reach(actor), row)


def row_visible_by_reach(r: Reach, row: Any) -> ColumnElement[bool]:
    if r.everything:
        return true()
    if not r.department:
        return false()
    # OFFSET 0 keeps PostgreSQL from turning this into a hashed subplan, which reads
    # every case_share row of the department (200,000 in the 1M benchmark) on each
    # request; probed per case through the (department_id, case_id) index, a page of
    # the newest cases costs a few dozen index lookups.
    shared_with_me = (
        select(col(CaseShare.case_id))
        .where(col(CaseShare.case_id) == row.id, col(CaseShare.department_id) == r.department_id)
        .offset(0)
        .exists()
    )
    return or_(row.lead_department_id == r.department_id, shared_with_me)


class CasePart(NamedTuple):
    """One part of a reader's scope, and the columns it is walked newest first by (created_at, case id)."""

    select: SelectOfScalar[Case]
    created_at: Any
    case_id: Any


def visible_case_parts(actor: User) -> list[CasePart]:
    """case_visible as disjoint SELECTs of Case whose union is what the actor sees.

    A list that pages newest first asks each part for its newest rows: for a
    department, its own cases through (lead_department_id, created_at) and the
    cases shared with it through (department_id, case_created_at) of case_share,
    each walked by its own columns.  PostgreSQL then plans each part for what it
    holds, which one OR over both parts cannot do (a small department's few
    shared cases would be found by walking all cases).
    """
    return visible_parts_by_reach(reach(actor))


def visible_parts_by_reach(r: Reach) -> list[CasePart]:
    if r.everything:
        return [CasePart(select(Case), col(Case.created_at), col(Case.id))]
    if not r.department:
        return []
    own = select(Case).where(col(Case.lead_department_id) == r.department_id)
    shared = select(Case).join(CaseShare, and_(
        col(CaseShare.case_id) == col(Case.id), col(CaseShare.department_id) == r.department_id,
    )).where(col(Case.lead_department_id) != r.department_id)
    return [CasePart(own, col(Case.created_at), col(Case.id)),
            CasePart(shared, col(CaseShare.case_created_at), col(CaseShare.case_id))]


# Cases found visible in the session's current transaction, by (reader, case), and the departments a
# case is shared with: a page asks for the same case from several use cases (the case page did four
# times), and for its shares twice.  A flush that writes a case or a
# share forgets them, so a change made in the transaction (a share removed, the lead moved) is checked
# again; nothing here writes either by a bulk statement, which a flush would not see.
_READ_IN_TRANSACTION = "gongzhi.scope.read_in_transaction"


def _reads(session: Session) -> dict[tuple[object, ...], Any]:
    transaction = session.get_transaction()
    held = session.info.get(_READ_IN_TRANSACTION)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_READ_IN_TRANSACTION] = held
    reads: dict[tuple[object, ...], Any] = held[1]
    return reads


_SHARES_OF_CASE = (select(col(CaseShare.department_id)).where(col(CaseShare.case_id) == bindparam("case_id"))
                   .order_by(col(CaseShare.department_id)))


def shared_department_ids(session: Session, case_id: int) -> list[int]:
    """The departments CASE_ID is shared with, by id; read once per transaction while no share is pending."""
    key = ("shares", case_id)
    # A share added or removed but not flushed yet: the query's autoflush writes it (and forgets).
    pending = any(isinstance(o, CaseShare) for o in (*session.new, *session.deleted))
    if not pending and session.in_transaction():
        known = _reads(session).get(key)
        if known is not None:
            return list(known)
    ids = list(session.scalars(_SHARES_OF_CASE, {"case_id": case_id}))
    _reads(session)[key] = tuple(ids)
    return ids


@event.listens_for(OrmSession, "after_flush")
def _forget_reads(session: OrmSession, _context: object) -> None:
    # after_flush still lists what the flush wrote.
    if _READ_IN_TRANSACTION in session.info and any(
            isinstance(o, Case | CaseShare) for o in (*session.new, *session.dirty, *session.deleted)):
        del session.info[_READ_IN_TRANSACTION]


def case_for_read(session: Session, actor: User, case_id: int, *, for_update: bool = False) -> Case:
    key = (actor.id, actor.role, actor.department_id, case_id)
    if not for_update and session.in_transaction():
        known: Case | None = _reads(session).get(key)
        if known is not None:
            return known
    case: Case | None
    if for_update:
        case = session.scalars(_case_by_id(reach(actor), True), {"case_id": case_id}).first()
    else:
        case, shares = session.execute(_case_with_shares(reach(actor)), {"case_id": case_id}).first() or (None, None)
        if case is not None:
            # Read with the case (the autoflush before it wrote any pending share): shared_department_ids
            # finds them.
            _reads(session)[("shares", case_id)] = tuple(sorted(int(i) for i in shares.split(","))) if shares else ()
    if case is None:
        raise NotFound()
    _reads(session)[key] = case
    return case


def assignment_for_read(
    session: Session, actor: User, assignment_id: int, *, for_update: bool = False
) -> Assignment:
    assignment = session.scalars(_assignment_by_id(reach(actor), for_update),
                                 {"assignment_id": assignment_id}).first()
    if assignment is None:
        raise NotFound()
    return assignment


# Kept per (reach, lock): a few per department.  The ids are bound at execution.
@lru_cache(maxsize=512)
def _case_by_id(r: Reach, for_update: bool) -> SelectOfScalar[Case]:
    stmt = select(Case).where(col(Case.id) == bindparam("case_id"), row_visible_by_reach(r, Case))
    return stmt.with_for_update() if for_update else stmt


# The departments a case is shared with, as one string, read with the case: every page and answer that shows
# a case shows them, and a statement of their own cost a round trip and ~0.3 ms of the server's CPU.
_SHARES_WITH_CASE = (select(func.aggregate_strings(cast(col(CaseShare.department_id), String), ","))
                     .where(col(CaseShare.case_id) == col(Case.id)).scalar_subquery())


@lru_cache(maxsize=512)
def _case_with_shares(r: Reach) -> Select[tuple[Case, str | None]]:
    return _case_by_id(r, False).add_columns(_SHARES_WITH_CASE)  # type: ignore[return-value]


@lru_cache(maxsize=512)
def _assignment_by_id(r: Reach, for_update: bool) -> SelectOfScalar[Assignment]:
    stmt = select(Assignment).where(col(Assignment.id) == bindparam("assignment_id"),
                                    column_visible_by_reach(r, Assignment.case_id))
    return stmt.with_for_update() if for_update else stmt


def sees_personal_data(actor: User, case: Case) -> bool:
    """Complainant data in full: the lead department and coordinators only."""
    return actor.role == Role.COORDINATOR or (
        actor.role in DEPARTMENT_ROLES and actor.department_id == case.lead_department_id
    )


def personal_data_sql(actor: User) -> ColumnElement[bool]:
    """sees_personal_data in SQL, over the Case table the query reads (phone search uses it)."""
    return personal_data_by_reach(reach(actor))


def personal_data_by_reach(r: Reach) -> ColumnElement[bool]:
    if r.every_complainant:
        return true()
    if r.department:
        return col(Case.lead_department_id) == r.department_id
    return false()


class ManagedCase(Protocol):
    @property
    def coordinator_id(self) -> int | None: ...

    @property
    def lead_department_id(self) -> int: ...


def can_manage_case(actor: User, case: ManagedCase) -> bool:
    """Dispatch, review, close: the case's coordinator, or a coordinator of its lead department."""
    return actor.role == Role.COORDINATOR and (
        actor.id == case.coordinator_id or actor.department_id == case.lead_department_id
    )


def managed_sql(actor: User) -> ColumnElement[bool]:
    """can_manage_case in SQL, over the Case table the query joins."""
    if actor.role != Role.COORDINATOR:
        return false()
    return or_(col(Case.coordinator_id) == actor.id, col(Case.lead_department_id) == actor.department_id)


def require_case_manager(actor: User, case: ManagedCase) -> None:
    if not can_manage_case(actor, case):
        raise Forbidden()


def require_role(actor: User, *roles: Role) -> None:
    if actor.role not in roles:
        raise Forbidden()
