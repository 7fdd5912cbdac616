"""Sign in and out with the same session cookie the API uses; the stylesheet."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, Response

from services.api.pages.common import (
    LOGIN_CSRF_COOKIE,
    Flash,
    FormDep,
    Page,
    PageDep,
    csrf_for_login,
    done,
    html,
    login_nonce,
    redirect,
    redirect_with_flash,
    safe_next,
)
from services.api.path_gate import PathGate
from services.api.signin import (
    clear_session_cookie,
    client_address,
    retry_after_seconds,
    secure_cookies,
    set_session_cookie,
)
from shared.errors import DomainError, TooManyRequests
from shared.i18n import N_
from shared.users import service as users

router = PathGate()

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _login_form(page: Page, next_url: str, *, status: int = 200, username: str = "") -> Response:
    nonce = login_nonce()
    response = html(page, "login.html", status=status, next_url=next_url, username=username,
                    login_csrf=csrf_for_login(page.settings, nonce))
    response.set_cookie(LOGIN_CSRF_COOKIE, nonce, max_age=3600, httponly=True, samesite="strict",
                        path="/login", secure=secure_cookies(page.settings))
    return response


@router.get("/")
def home() -> Response:
    return redirect("/queue")


@router.get("/login")
def login_form(page: PageDep, next: str | None = None) -> Response:
    if page.user is not None:
        return redirect(safe_next(next))
    page.session.rollback()
    return _login_form(page, safe_next(next))


@router.post("/login")
def login(page: PageDep, form: FormDep) -> Response:
    next_url = safe_next(form.get("next"))
    username = form.get("username", "").strip()[:64]
    password = form.get("password", "")[:256]
    # The pages router has checked the sign-in form's token (common.guard_form).
    try:
        user = users.authenticate(page.session, page.clock, page.settings, username, password,
                                  client_address(page.request))
    except DomainError as exc:
        page.session.commit()  # the failed attempt counts towards the throttle
        page.flashes.append(Flash("error", page.gettext(exc.key, **exc.params)))
        response = _login_form(page, next_url, status=exc.status, username=username)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(retry_after_seconds(exc))
        return response
    token = users.issue_token(page.session, page.clock, page.settings, user)
    page.session.commit()
    response = redirect(next_url)
    set_session_cookie(response, page.settings, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(page: PageDep) -> Response:
    if page.user is None:
        return redirect("/login")
    assert page.token is not None
    users.revoke_token(page.session, page.token)
    done(page, "/login")
    response = redirect_with_flash(page, "/login", N_("page.logged_out"))
    clear_session_cookie(response, page.settings)
    return response


@router.get("/static/pages.css")
def stylesheet() -> FileResponse:
    return FileResponse(STATIC_DIR / "pages.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})


@router.get("/static/print.css")
def print_stylesheet() -> FileResponse:
    """A4 work orders: every page links it with media="print"."""
    return FileResponse(STATIC_DIR / "print.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})
