"""What every admin page shares: who may see it, refused forms with errors beside their fields.

Only admins see ``/admin``.  For anyone else it does not exist: a signed-in
liaison, head, coordinator or leader gets the same 404 page as for a record out
of his reach, before the form token is even read, so a post tells him nothing
and uses up nothing.  The check asks ``shared.actors.require_admin``, the same
rule every admin use case applies to its actor again.

A refused form is shown again with what was typed (never a password), the
reason beside each field it concerns, and the other reasons in the flash.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from services.api.errors import field_reason
from services.api.pages.common import (
    Flash,
    Page,
    PageAnswer,
    PageDep,
    error_text,
    html,
    login_redirect,
    not_found,
)
from shared.actors import require_admin
from shared.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized
from shared.i18n import N_, translate
from shared.users.models import User

# The admin pages' own navigation ("page.admin.section." ~ key in the layout): declared for extraction.
SECTIONS = (
    N_("page.admin.section.home"), N_("page.admin.section.users"), N_("page.admin.section.departments"),
    N_("page.admin.section.calendar"), N_("page.admin.section.outbox"), N_("page.admin.section.audit"),
)
# Never shown again in a refused form.
SECRET_FIELDS = frozenset({"csrf_token", "password", "password_confirm"})


def admin_only(page: PageDep) -> None:
    """The admin router's first dependency: sign in first, then admins only (404 for anyone else)."""
    if page.user is None:
        raise PageAnswer(login_redirect(page))
    try:
        require_admin(page.user)
    except Forbidden:
        raise PageAnswer(not_found(page)) from None


def actor(page: Page) -> User:
    assert page.user is not None  # admin_only ran first
    return page.user


@dataclass
class FormState:
    """A refused form: which one, what was typed, and the reason beside each field."""

    name: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        return {"open_form": self.name, "values": self.values, "errors": self.errors}


def field_errors(page: Page, exc: DomainError | ValidationError) -> dict[str, str]:
    """The reasons that belong to one field, by the field's form name ("holidays.3" → "holidays")."""
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for err in exc.errors():
            names = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            if names:
                errors.setdefault(names[0], field_reason(dict(err), page.lang))
        return errors
    if isinstance(exc, Invalid) and exc.field:
        return {exc.field.split(".")[0]: translate(exc.key, page.lang, **exc.params)}
    return {}


def refused(page: Page, exc: DomainError | ValidationError, form_name: str, form: Mapping[str, str],
            render: Callable[[FormState, int], Response], *, visible: Collection[str],
            errors: dict[str, str] | None = None) -> Response:
    """Roll the action back and show its form again, with the reasons (the token stays unused).

    A reason goes beside its field when the form shows that field (VISIBLE); any
    other reason is said in the flash, so none is lost.
    """
    page.session.rollback()
    if isinstance(exc, Unauthorized):
        return login_redirect(page)
    if isinstance(exc, NotFound):
        return not_found(page)
    found = field_errors(page, exc) if errors is None else errors
    beside = {name: reason for name, reason in found.items() if name in visible}
    elsewhere = [reason for name, reason in found.items() if name not in visible and name != "version"]
    if elsewhere:
        text = "；".join(elsewhere) if page.lang == "zh-CN" else "; ".join(elsewhere)
    elif beside:
        text = page.gettext(N_("page.admin.fix_fields"))
    else:
        text = error_text(page, exc)
    page.flashes.append(Flash("error", text))
    state = FormState(form_name, {k: v for k, v in form.items() if k not in SECRET_FIELDS}, beside)
    return render(state, exc.status if isinstance(exc, DomainError) else 422)


def version_of(form: Mapping[str, str]) -> int:
    text = form.get("version", "").strip()
    if not text.isdigit() or len(text) > 9:
        raise Invalid("version", "field_required")
    return int(text)


def checked(form: Mapping[str, str], name: str) -> bool:
    """A checkbox: sent ("1") when ticked, absent when not."""
    return form.get(name) == "1"


def admin_html(page: Page, template: str, section: str, *, status: int = 200,
               state: FormState | None = None, **context: Any) -> Response:
    return html(page, f"admin/{template}", status=status, section=section,
                **(state or FormState()).context(), **context)
