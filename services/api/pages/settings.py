"""Personal settings (个人设置): reminder emails, language, password.

The same use cases as ``PATCH /api/v1/me/preferences`` and
``POST /api/v1/me/password``; changing the password here keeps this session
and ends every other one.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError

from services.api.pages import conflicts
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    commit_refusal,
    done,
    form_values,
    html,
    login_redirect,
    redirect_with_flash,
)
from services.api.pages.ics import feed_section
from services.api.path_gate import PathGate
from services.api.signin import client_address, retry_after_seconds
from shared.errors import DomainError, Invalid, TooManyRequests
from shared.i18n import LANGUAGES, N_
from shared.templating import normalise_language
from shared.users import service as users
from shared.users.models import NotifyMode
from shared.users.schemas import PasswordChangeIn, PreferencesIn

router = PathGate()


LANGUAGE_NAMES = {"zh-CN": "简体中文", "en": "English"}


def _context(page: Page) -> dict[str, Any]:
    assert page.user is not None
    return {"modes": [m.value for m in NotifyMode], "languages": LANGUAGES, "language_names": LANGUAGE_NAMES,
            "open_form": None, "values": {}, "snapshot": snapshot(page), **feed_section(page)}


def snapshot(page: Page) -> conflicts.Snapshot:
    """The preferences as the page shows them: another tab or the API may change them meanwhile."""
    assert page.user is not None
    user = page.user
    return conflicts.snapshot(page.session, [
        conflicts.Shown("notify_mode", page.gettext("page.settings.notify_mode"),
                        page.gettext(f"page.settings.notify_mode.{user.notify_mode}"), raw=str(user.notify_mode)),
        conflicts.Shown("language", page.gettext("page.settings.language"),
                        LANGUAGE_NAMES.get(user.language, user.language), raw=user.language),
    ])


def _refused(page: Page, exc: DomainError | ValidationError, form_name: str, form: dict[str, str]) -> Response:
    choices = {"notify_mode": {m.value: page.gettext(f"page.settings.notify_mode.{m.value}") for m in NotifyMode},
               "language": LANGUAGE_NAMES}
    response = conflicts.refuse(page, exc, form=form, form_name=form_name, template="settings.html",
                                context=lambda: _context(page), kept=("language", "notify_mode"), choices=choices)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(retry_after_seconds(exc))
    return response


@router.get("/settings")
def settings_page(page: PageDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    return html(page, "settings.html", **_context(page))


@router.post("/settings/preferences")
def save_preferences(page: PageDep, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    try:
        version = form.get("version", "").strip()
        if not version.isdigit() or len(version) > 9:
            raise Invalid("version", "field_required")
        data = PreferencesIn(**form_values(form, "language", "notify_mode"))  # type: ignore[arg-type]
        user = users.update_preferences(page.session, page.clock, page.user, int(version),
                                        data.model_dump(exclude_unset=True))
        done(page, "/settings")
    except (DomainError, ValidationError) as exc:
        page.session.rollback()
        return _refused(page, exc, "preferences", form)
    page.lang = normalise_language(user.language)  # say it in the language just chosen
    return redirect_with_flash(page, "/settings", N_("page.done.preferences"))


@router.post("/settings/password")
def change_password(page: PageDep, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    try:
        data = PasswordChangeIn(current_password=form.get("current_password", "")[:256],
                                new_password=form.get("new_password", "")[:256])
        if form.get("new_password_confirm", "") != data.new_password:
            raise Invalid("new_password_confirm", "password_mismatch")
        users.change_password(page.session, page.clock, page.settings, page.user,
                              current_password=data.current_password, new_password=data.new_password,
                              keep_token=page.token, client=client_address(page.request))
        done(page, "/settings")
    except ValidationError as exc:
        page.session.rollback()
        return _refused(page, exc, "password", form)
    except DomainError as exc:
        commit_refusal(page)  # a wrong current password counts towards the sign-in throttle
        return _refused(page, exc, "password", form)
    return redirect_with_flash(page, "/settings", N_("page.done.password"))
