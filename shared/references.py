"""Ids a client names in a request body, checked before anything is written.

An unknown id is the client's mistake, so it answers 422 naming the field —
never a foreign-key violation at flush time (a 500 that also broke the
connection).  For a list the field is the list's name and the reason names the
offending ids: `participant_department_ids`: 部门不存在或已停用：7, 9.

A case named in a body that the actor cannot see is "unknown" too, exactly as
one that does not exist: the answer must not tell them apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session, col

from shared.campaigns.models import Campaign
from shared.departments.models import Department
from shared.errors import Invalid
from shared.users.models import User


def _listed(ids: Iterable[int]) -> str:
    return ", ".join(map(str, ids))


def require_departments(session: Session, ids: Iterable[int], field: str) -> None:
    """Every id names an active department."""
    wanted = set(ids)
    if not wanted:
        return
    found = set(session.scalars(
        select(col(Department.id)).where(col(Department.id).in_(wanted), col(Department.active).is_(True))
    ))
    missing = sorted(wanted - found)
    if missing:
        raise Invalid(field, "department_unknown", ids=_listed(missing))


def require_department(session: Session, department_id: int, field: str) -> Department:
    department = session.get(Department, department_id)
    if department is None or not department.active:
        raise Invalid(field, "department_unknown", ids=str(department_id))
    return department


def require_campaign(session: Session, campaign_id: int | None, field: str = "campaign_id") -> None:
    if campaign_id is not None and session.get(Campaign, campaign_id) is None:
        raise Invalid(field, "campaign_unknown", ids=str(campaign_id))


def require_user(session: Session, user_id: int, field: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Invalid(field, "user_unknown", ids=str(user_id))
    return user
