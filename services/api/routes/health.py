from __future__ import annotations

from sqlalchemy import text

from services.api.deps import SessionDep
from services.api.routes import api_router

router = api_router(tags=["health"])


@router.get("/health")
def health(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability, for load balancers and compose health checks."""
    session.execute(text("select 1"))
    return {"status": "ok"}
