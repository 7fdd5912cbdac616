"""部门管理: the list, a new department, and one department's name, kind, contact email,
whether it is in use, and whether its feedback needs the head's sign-off (审签).

The same use cases as ``/api/v1/departments`` (``shared.departments.service``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from services.api.pages.admin.base import FormState, actor, admin_html, checked, refused, version_of
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    done,
    form_values,
    not_found,
    parse_id,
    redirect_with_flash,
)
from shared.departments import service
from shared.departments.models import Department, DepartmentKind
from shared.errors import DomainError
from shared.i18n import N_

router = APIRouter()

KINDS = [k.value for k in DepartmentKind]
# Labels built from the value in the templates ("page.admin.kind." ~ kind): declared for extraction.
_KIND_KEYS = (
    N_("page.admin.kind.market_regulation"), N_("page.admin.kind.consumer_association"),
    N_("page.admin.kind.public_security"), N_("page.admin.kind.health"), N_("page.admin.kind.commerce"),
    N_("page.admin.kind.culture_tourism"), N_("page.admin.kind.education"), N_("page.admin.kind.sports"),
    N_("page.admin.kind.housing"), N_("page.admin.kind.other"),
)


def _kind_options(page: Page) -> list[tuple[str, str]]:
    return [(k, page.gettext(f"page.admin.kind.{k}")) for k in KINDS]


def _list_page(page: Page, state: FormState | None = None, status: int = 200) -> Response:
    return admin_html(page, "departments.html", "departments", status=status, state=state,
                      departments=service.list_departments(page.session), kind_options=_kind_options(page))


@router.get("/departments")
def department_list(page: PageDep) -> Response:
    return _list_page(page)


@router.post("/departments")
def create_department(page: PageDep, form: FormDep) -> Response:
    try:
        data = service.DepartmentIn(**form_values(form, "code", "name", "kind", "email"),
                                    signoff_required=checked(form, "signoff_required"))
        created = service.create(page.session, page.clock, actor(page), data)
        done(page, "/admin/departments")
    except (DomainError, ValidationError) as exc:
        return refused(page, exc, "create", form, lambda state, status: _list_page(page, state, status),
                       visible=("code", "name", "kind", "email"))
    return redirect_with_flash(page, "/admin/departments", N_("page.admin.departments.done.created"),
                               name=created.name)


def _department_page(page: Page, department_id: int, state: FormState | None = None,
                     status: int = 200) -> Response:
    department = page.session.get(Department, department_id)
    if department is None:
        return not_found(page)
    return admin_html(page, "department.html", "departments", status=status, state=state,
                      department=department, kind_options=_kind_options(page))


@router.get("/departments/{department_id}")
def department_page(page: PageDep, department_id: str) -> Response:
    did = parse_id(department_id)
    return not_found(page) if did is None else _department_page(page, did)


@router.post("/departments/{department_id}")
def edit_department(page: PageDep, department_id: str, form: FormDep) -> Response:
    did = parse_id(department_id)
    if did is None:
        return not_found(page)
    try:
        data = service.DepartmentUpdate(**form_values(form, "kind"), name=form.get("name", "").strip(),
                                        email=form.get("email", "").strip() or None,
                                        active=checked(form, "active"),
                                        signoff_required=checked(form, "signoff_required"))
        updated = service.update(page.session, page.clock, actor(page), did, version_of(form), data)
        done(page, "/admin/departments")
    except (DomainError, ValidationError) as exc:
        return refused(page, exc, "edit", form, lambda state, status: _department_page(page, did, state, status),
                       visible=("name", "kind", "email"))
    return redirect_with_flash(page, "/admin/departments", N_("page.admin.departments.done.saved"),
                               name=updated.name)
