"""系统管理 (/admin): users, departments, the working calendar, undelivered mail, the audit log.

Server-rendered like the other pages and over the same use cases as the API.
The router's first dependency (``base.admin_only``) answers 404 to anyone but an
admin, before the second (``common.guard_form``, as on every page) reads the
form token: a non-admin learns nothing and uses up nothing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, Response

from services.api.pages import common
from services.api.pages.admin import audit, base, calendar, departments, home, outbox, users
from services.api.path_gate import PathGate

router = PathGate("/admin", include_in_schema=False,
                  dependencies=[Depends(base.admin_only), Depends(common.guard_form)])
for _module in (home, users, departments, calendar, outbox, audit):
    router.include_router(_module.router, prefix="/admin")


@router.api_route("/admin/{rest:path}", methods=["GET", "POST"])
def unknown_admin_page(page: common.PageDep, rest: str) -> Response:
    """Any other /admin address: the pages' own 404, for admins and everyone else alike."""
    return common.not_found(page)

# The stylesheet is no secret: outside the admin check, like /static/pages.css.
assets = APIRouter(include_in_schema=False)
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "admin.css"


@assets.get("/static/admin.css")
def stylesheet() -> FileResponse:
    return FileResponse(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})
