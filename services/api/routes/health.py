from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from services.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability, for load balancers and compose health checks."""
    session.execute(text("select 1"))
    return {"status": "ok"}
