"""用户管理: the list (by department, role, active), a new account, and one account's changes.

The same use cases as ``/api/v1/users``: ``create_user`` and ``update_user``
(which ends every session of a user whose password an admin resets).  The list's
URL with ``format=xlsx`` downloads every account the filters find (shared/users/export.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from services.api.pages.admin.base import (
    FormState,
    actor,
    admin_html,
    field_errors,
    refused,
    version_of,
)
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    department_names,
    done,
    form_values,
    not_found,
    parse_id,
    parse_optional_id,
    redirect_with_flash,
    xlsx_download,
)
from shared.departments import service as departments
from shared.errors import DomainError, Invalid, NotFound
from shared.i18n import LANGUAGES, N_
from shared.users import service as users
from shared.users.export import export_users
from shared.users.models import Role
from shared.users.schemas import UserCreate, UserUpdate

router = APIRouter()

PAGE_SIZE = 50
CREATE_FIELDS = ("username", "name", "email", "department_id", "role", "language", "password", "password_confirm")
# The fields each form on a user's page shows.
VISIBLE = {"edit": ("name", "email", "department_id", "role"), "password": ("password", "password_confirm"),
           "active": ()}
ROLES = [r.value for r in Role]


def _role(value: str | None) -> Role | None:
    try:
        return Role(value) if value else None
    except ValueError:
        return None


def _choices(page: Page) -> dict[str, Any]:
    """The departments, roles and languages the forms offer (a department no longer in use only as it stands)."""
    everyone = departments.list_departments(page.session)

    def department_options(current: int | None = None) -> list[tuple[int | None, str]]:
        return [(d.id, d.name if d.active else page.gettext(N_("page.admin.inactive_named"), name=d.name))
                for d in everyone if d.active or d.id == current]

    return {
        "departments": everyone, "roles": ROLES,
        "department_options": department_options(), "department_options_for": department_options,
        "role_options": [(r, page.gettext(f"page.role.{r}")) for r in ROLES],
        "language_options": [(code, "简体中文" if code == "zh-CN" else "English") for code in LANGUAGES],
    }


@router.get("/users")
def user_list(page: PageDep, department_id: str | None = None, role: str | None = None,
              active: str | None = None, after: str | None = None, format: str | None = None) -> Response:
    filters = users.UserFilter(department_id=parse_optional_id(department_id), role=_role(role),
                               active={"1": True, "0": False}.get(active or ""))
    if format == "xlsx":
        return xlsx_download(page, export_users(page.session, actor(page), filters, language=page.lang,
                                                timezone=page.settings.timezone), "users")
    after_id = parse_optional_id(after)
    rows = users.list_users(page.session, actor(page), filters, after_id=after_id, limit=PAGE_SIZE + 1)
    query = {k: v for k, v in (("department_id", filters.department_id), ("role", filters.role),
                               ("active", active if filters.active is not None else None)) if v is not None}
    next_url = (f"/admin/users?{urlencode({**query, 'after': rows[PAGE_SIZE - 1].id})}"
                if len(rows) > PAGE_SIZE else None)
    return admin_html(page, "users.html", "users", users=rows[:PAGE_SIZE], filters=query, next_url=next_url,
                      paged=after_id is not None, first_url=f"/admin/users?{urlencode(query)}",
                      export_url=f"/admin/users?{urlencode({**query, 'format': 'xlsx'})}",
                      names=department_names(page.session), **_choices(page))


def _new_form(page: Page, state: FormState | None = None, status: int = 200) -> Response:
    return admin_html(page, "user_new.html", "users", status=status, state=state, **_choices(page))


@router.get("/users/new")
def new_user_form(page: PageDep) -> Response:
    return _new_form(page)


@router.post("/users")
def create_user(page: PageDep, form: FormDep) -> Response:
    mismatch = form.get("password", "") != form.get("password_confirm", "")
    try:
        data = UserCreate(**form_values(form, "username", "name", "email", "department_id", "role",
                                        "language"), password=form.get("password", "")[:256])
        if mismatch:
            raise Invalid("password_confirm", "password_mismatch")
        created = users.create_user(page.session, page.clock, actor(page), username=data.username, name=data.name,
                                    email=str(data.email), department_id=data.department_id, role=data.role,
                                    password=data.password, language=data.language)
        url = f"/admin/users/{created.id}"
        done(page, url)
    except (DomainError, ValidationError) as exc:
        errors = field_errors(page, exc)
        if mismatch:  # said with the other reasons, not after they are mended
            errors.setdefault("password_confirm", page.gettext("password_mismatch"))
        return refused(page, exc, "create", form, lambda state, status: _new_form(page, state, status),
                       visible=CREATE_FIELDS, errors=errors)
    return redirect_with_flash(page, url, N_("page.admin.users.done.created"), name=data.name)


def _user_page(page: Page, user_id: int, state: FormState | None = None, status: int = 200) -> Response:
    try:
        shown = users.get_user(page.session, user_id)
    except NotFound:
        return not_found(page)
    return admin_html(page, "user.html", "users", status=status, state=state, shown=shown,
                      is_me=shown.id == actor(page).id, names=department_names(page.session), **_choices(page))


@router.get("/users/{user_id}")
def user_page(page: PageDep, user_id: str) -> Response:
    uid = parse_id(user_id)
    return not_found(page) if uid is None else _user_page(page, uid)


def _update(page: Page, raw_id: str, form: dict[str, str], form_name: str, done_key: str,
            changes: Any) -> Response:
    """One account change through users.update_user; CHANGES(form) gives the fields to change."""
    uid = parse_id(raw_id)
    if uid is None:
        return not_found(page)
    url = f"/admin/users/{uid}"
    try:
        updated = users.update_user(page.session, page.clock, actor(page), uid, version_of(form), changes(form))
        name = updated.name
        done(page, url)
    except (DomainError, ValidationError) as exc:
        # The role is not offered on one's own page: a reason about it is said in the flash.
        visible = [name for name in VISIBLE[form_name] if not (name == "role" and uid == actor(page).id)]
        return refused(page, exc, form_name, form, lambda state, status: _user_page(page, uid, state, status),
                       visible=visible)
    return redirect_with_flash(page, url, done_key, name=name)


@router.post("/users/{user_id}")
def edit_user(page: PageDep, user_id: str, form: FormDep) -> Response:
    """Name, email, department and role."""
    def changes(f: dict[str, str]) -> dict[str, object]:
        return UserUpdate(**form_values(f, "name", "email", "department_id", "role")).model_dump(exclude_unset=True)

    return _update(page, user_id, form, "edit", N_("page.admin.users.done.saved"), changes)


@router.post("/users/{user_id}/password")
def reset_password(page: PageDep, user_id: str, form: FormDep) -> Response:
    """A new password set by the admin; every session the user had ends (update_user revokes them)."""
    def changes(f: dict[str, str]) -> dict[str, object]:
        password = f.get("password", "")[:256]
        if not password:
            raise Invalid("password", "field_required")
        if f.get("password_confirm", "") != password:
            raise Invalid("password_confirm", "password_mismatch")
        return UserUpdate(password=password).model_dump(exclude_unset=True)

    return _update(page, user_id, form, "password", N_("page.admin.users.done.password"), changes)


@router.post("/users/{user_id}/active")
def set_active(page: PageDep, user_id: str, form: FormDep) -> Response:
    """停用 / 启用: a deactivated user cannot sign in, and his sessions stop working at once."""
    active = form.get("active") == "1"
    key = N_("page.admin.users.done.reactivated") if active else N_("page.admin.users.done.deactivated")
    return _update(page, user_id, form, "active", key, lambda f: {"active": active})
