"""Server-rendered pages (Jinja2) for liaisons, heads, coordinators and leaders.

Mounted at the root by services/api/app.py (the JSON API lives under /api/v1).
Pages are thin callers of the same services as the API; see common.py for
sign-in, form tokens and flash messages.

The router itself checks every unsafe request's one-time form token
(``common.guard_form``) before any handler runs: a handler added here cannot
forget it.  The admin pages (admin/) have their own router that checks the
token the same way, after it has made sure the user is an admin.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from services.api.pages import (
    admin,
    assignments,
    auth,
    callbacks,
    campaigns,
    cases,
    common,
    dispatch,
    ics,
    inbox,
    inspections,
    intake,
    queue,
    reports,
    settings,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(common.guard_form)])
# intake before cases: /cases/new is not a case's number.
for _module in (auth, queue, inbox, assignments, intake, cases, dispatch, callbacks, campaigns, inspections, reports,
                settings, ics):
    router.include_router(_module.router)
router.include_router(admin.assets)


def install(app: FastAPI) -> None:
    """Mount the pages at the root, with the answers their router dependency may give."""
    common.install(app)
    app.include_router(router)
    app.include_router(admin.router)  # its own router: the admin check runs before the form token's
