"""Who may see and touch what — the one module every read goes through.

A case is visible to its lead department, the departments it is shared with,
coordinators, leaders and admins.  To anyone else it does not exist: lookups
answer NotFound (404), never Forbidden, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from shared.assignments.models import Assignment
from shared.cases.models import Case, CaseShare
from shared.errors import Forbidden, NotFound
from shared.users.models import Role, User

GLOBAL_READERS = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})
DEPARTMENT_ROLES = frozenset({Role.LIAISON, Role.HEAD})


def sees_everything(actor: User) -> bool:
    return actor.role in GLOBAL_READERS


def case_visible(actor: User, case_id_column: Any = None) -> ColumnElement[bool]:
    """SQL condition: the case (by id column) is visible to the actor."""
    if sees_everything(actor):
        return true()
    if actor.role not in DEPARTMENT_ROLES:
        return false()
    if case_id_column is None:
        shared_with_me = exists().where(
            CaseShare.case_id == Case.id,  # type: ignore[arg-type]
            CaseShare.department_id == actor.department_id,  # type: ignore[arg-type]
        )
        return or_(Case.lead_department_id == actor.department_id, shared_with_me)  # type: ignore[arg-type]
    # Aliases keep these subqueries from correlating with a Case the outer query joins.
    share = aliased(CaseShare)
    lead = aliased(Case)
    shared_with_me = (
        select(col(share.case_id))
        .where(col(share.case_id) == case_id_column, col(share.department_id) == actor.department_id)
        .correlate_except(share)
        .exists()
    )
    lead_is_me = (
        select(col(lead.id))
        .where(col(lead.id) == case_id_column, col(lead.lead_department_id) == actor.department_id)
        .correlate_except(lead)
        .exists()
    )
    return or_(lead_is_me, shared_with_me)


def case_for_read(session: Session, actor: User, case_id: int, *, for_update: bool = False) -> Case:
    stmt = select(Case).where(Case.id == case_id, case_visible(actor))  # type: ignore[arg-type]
    if for_update:
        stmt = stmt.with_for_update()
    case = session.scalars(stmt).first()
    if case is None:
        raise NotFound()
    return case


def assignment_for_read(
    session: Session, actor: User, assignment_id: int, *, for_update: bool = False
) -> Assignment:
    stmt = select(Assignment).where(
        Assignment.id == assignment_id,  # type: ignore[arg-type]
        case_visible(actor, Assignment.case_id),
    )
    if for_update:
        stmt = stmt.with_for_update()
    assignment = session.scalars(stmt).first()
    if assignment is None:
        raise NotFound()
    return assignment


def sees_personal_data(actor: User, case: Case) -> bool:
    """Complainant data in full: the lead department and coordinators only."""
    return actor.role == Role.COORDINATOR or (
        actor.role in DEPARTMENT_ROLES and actor.department_id == case.lead_department_id
    )


def personal_data_sql(actor: User) -> ColumnElement[bool]:
    """sees_personal_data in SQL, over the Case table the query reads (phone search uses it)."""
    if actor.role == Role.COORDINATOR:
        return true()
    if actor.role in DEPARTMENT_ROLES:
        return col(Case.lead_department_id) == actor.department_id
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
