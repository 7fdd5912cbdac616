"""Server-rendered pages (Jinja2) for liaisons, heads, coordinators and leaders.

Mounted at the root by services/api/app.py (the JSON API lives under /api/v1).
Pages are thin callers of the same services as the API; see common.py for
sign-in, CSRF and flash messages.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.api.pages import assignments, auth, cases, queue, settings

router = APIRouter(include_in_schema=False)
for _module in (auth, queue, assignments, cases, settings):
    router.include_router(_module.router)
