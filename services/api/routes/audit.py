"""The audit log of personal-data reads, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime, BaseModel

from services.api.caching import NO_STORE
from services.api.deps import CurrentUser, IdQuery, SessionDep
from services.api.routes import api_router
from shared.audit import service as audit
from shared.audit.service import AuditFilter

router = api_router(tags=["audit"], dependencies=[NO_STORE])


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor_id: int
    action: str
    case_id: int | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


@router.get("/audit", response_model=AuditPage)
def list_audit(
    session: SessionDep, user: CurrentUser,
    user_id: IdQuery = None,
    case_id: IdQuery = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. personal_data_read")] = None,
    since: Annotated[AwareDatetime | None, Query(description="from this instant (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="to this instant (exclusive)")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Who read which complainant's data in full, and when: newest first, keyset-paged (admins only)."""
    rows, next_cursor = audit.search(
        session, user, AuditFilter(user_id=user_id, case_id=case_id, action=action, since=since, until=until),
        cursor=cursor, limit=limit,
    )
    return AuditPage(items=[AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows],
                     next_cursor=next_cursor)
