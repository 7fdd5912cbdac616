"""系统管理 home: what needs an admin now (calendar warnings, undelivered mail) and the sections."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.api.pages.admin.base import actor, admin_html
from services.api.pages.admin.calendar import warnings
from services.api.pages.common import PageDep
from shared.outbox import admin as outbox

router = APIRouter()


@router.get("")
def admin_home(page: PageDep) -> Response:
    return admin_html(page, "index.html", "home", warnings=warnings(page),
                      counts=outbox.counts(page.session, actor(page)))
