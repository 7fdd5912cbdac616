"""What every page shares: the signed-in user, form tokens, flash messages, rendering, error pages.

Sign-in is the API's session cookie (``gongzhi_session``, an opaque token whose
sha256 is stored); pages read only the cookie, never a bearer header.

Form tokens (shared/forms/service.py) — every form a page renders carries its
own one-time token, bound to the session with an HMAC: ``{{ csrf_field() }}`` in
a template writes the hidden field.  ``guard_form``, a dependency of the whole
pages router, checks it on every unsafe request before any handler runs, so no
handler can forget: a missing or foreign token is refused (403, nothing
changes); an expired one asks the user to reload (400); a token already used
(double submit, F5, back button) acts no second time and redirects (303) to the
page the first post led to, saying it was already done (or, when the old form
was edited before it was sent again, that the edit was not applied).  A handler's success
goes through ``done()``: it records where the action led, commits the change
with the token's use, and redirects (POST → 303 → GET).  A refused action rolls
the token's use back with the change and re-renders the form with the reason
and the user's input; posting that again is harmless, since nothing was done.

The sign-in form, which has no session yet, uses a signed double-submit instead:
a random nonce in a short-lived ``gongzhi_login_csrf`` cookie and
``HMAC(secret_key, "gongzhi-login:" + nonce)`` in the form; signing in twice is
harmless, so that token is not one-time.  The session cookie is also
``SameSite=Lax`` and every answer forbids framing (services/api/security_headers.py).

Flash messages travel in a short-lived cookie signed the same way, read once by
the next page (Post/Redirect/Get).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlmodel import Session

from services.api.caching import NO_STORE_HEADERS
from services.api.deps import SESSION_COOKIE, open_session
from services.api.errors import field_reason
from services.api.pages import multipart
from services.api.signin import clear_session_cookie
from shared.attachments.storage import Storage
from shared.cases.export import XLSX_MEDIA_TYPE, filename
from shared.clock import Clock
from shared.departments.choices import Choice, choices
from shared.errors import DomainError, Invalid, NotFound, Stale, TooLarge, Unauthorized
from shared.forms import service as forms
from shared.i18n import N_, has_message, pick_language, state_label, translate
from shared.ids import MAX_ID
from shared.settings import Settings
from shared.templating import normalise_language, render
from shared.users import kept_tokens
from shared.users.models import User

FLASH_COOKIE = "gongzhi_flash"
LOGIN_CSRF_COOKIE = "gongzhi_login_csrf"
FORM_TOKEN_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sign(secret: str, purpose: str, value: str) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_for_login(settings: Settings, nonce: str) -> str:
    return _sign(settings.secret_key, "gongzhi-login", nonce)


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass
class Flash:
    level: str  # "ok" | "error"
    text: str


@dataclass
class Page:
    """One request's page context: who, in which language, with what flash."""

    request: Request
    session: Session
    clock: Clock
    settings: Settings
    user: User | None
    token: str | None
    lang: str
    flashes: list[Flash] = field(default_factory=list)
    had_flash_cookie: bool = False
    form_nonce: str | None = None  # the one-time token this request used (set by guard_form)

    def new_form_token(self) -> str:
        """A fresh one-time token for one form, bound to this session ("" when signed out)."""
        binding = self.request.cookies.get(SESSION_COOKIE)
        return forms.issue(self.settings.secret_key, binding, self.now()) if binding and self.user else ""

    def now(self) -> datetime:
        return self.clock.now()

    def gettext(self, key: str, **params: Any) -> str:
        return translate(key, self.lang, **params)


def _read_flash(settings: Settings, raw: str | None) -> list[Flash]:
    if not raw or "." not in raw:
        return []
    body, signature = raw.rsplit(".", 1)
    if not tokens_match(_sign(settings.secret_key, "gongzhi-flash", body), signature):
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return [Flash(level=str(data["level"]), text=str(data["text"]))]
    except (ValueError, KeyError, TypeError):
        return []


def _flash_cookie(settings: Settings, flash: Flash) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"level": flash.level, "text": flash.text}).encode())
    text = body.decode().rstrip("=")
    return f"{text}.{_sign(settings.secret_key, 'gongzhi-flash', text)}"


def page_for(request: Request, session: Session, clock: Clock, settings: Settings, *,
             kept: User | None = None) -> Page:
    """The request's Page; KEPT: the user, known already.

    Reading a token that is not kept takes a statement: call this from a thread."""
    token = request.cookies.get(SESSION_COOKIE) or None
    user: User | None = kept
    if token and user is None:
        try:
            user = kept_tokens.user_for_token(session, clock, token)
        except Unauthorized:
            user, token = None, None
    lang = normalise_language(user.language) if user else pick_language(request.headers.get("accept-language"))
    raw_flash = request.cookies.get(FLASH_COOKIE)
    return Page(request=request, session=session, clock=clock, settings=settings, user=user, token=token,
                lang=lang, flashes=_read_flash(settings, raw_flash), had_flash_cookie=raw_flash is not None)


async def get_page(request: Request) -> AsyncIterator[Page]:
    """PageDep: the request's Page and its session, closed when the request is done.

    One dependency with no dependencies of its own (the engine, clock and settings are the app's): FastAPI
    solving a session, a clock and settings for it and again for guard_form was a tenth of a kept page's
    CPU.  guard_form and the handler get the same Page (FastAPI solves a dependency once per request).  Built
    on the event loop when the sign-in is kept or there is none (no statement to wait for), in a thread when
    the token must be read (as the API's get_current_user)."""
    state = request.app.state
    async with open_session(state.engine) as session:
        token = request.cookies.get(SESSION_COOKIE)
        kept = kept_tokens.kept_user(state.engine, token, state.clock.now()) if token else None
        if kept is not None or not token:
            yield page_for(request, session, state.clock, state.settings, kept=kept)
        else:
            yield await run_in_threadpool(page_for, request, session, state.clock, state.settings)


PageDep = Annotated[Page, Depends(get_page)]


async def read_form(request: Request) -> dict[str, str]:
    """The posted text fields, one value per name (guard_form read them; files are in ``posted``)."""
    return posted(request).values()


def posted(request: Request) -> multipart.Posted:
    """The posted form as guard_form received it: text fields in order, files staged."""
    found = getattr(request.state, "posted", None)
    return found if isinstance(found, multipart.Posted) else multipart.Posted()


async def _receive(request: Request, settings: Settings) -> multipart.Posted:
    """Read the body of an unsafe request once: multipart streamed (files staged), anything else as a form."""
    if multipart.is_multipart(request.headers.get("content-type")):
        # Files are staged only for a request that comes with a session; anyone else's bytes are dropped.
        storage = Storage(settings.upload_dir) if request.cookies.get(SESSION_COOKIE) else None
        return await multipart.receive(request.stream(), request.headers.get("content-type"),
                                       request.headers.get("content-length"), storage, settings.max_upload_bytes)
    form = await request.form()
    return multipart.Posted(fields=[(k, v) for k, v in form.multi_items() if isinstance(v, str)])


FormDep = Annotated[dict[str, str], Depends(read_form)]


# ------------------------------------------------------------------ rendering

def csrf_field(page: Page) -> Markup:
    """The hidden input every page form carries: ``{{ csrf_field() }}``."""
    token = escape(page.new_form_token())
    return Markup(f'<input type="hidden" name="{FORM_TOKEN_FIELD}" value="{token}">')


def yuan(value: Decimal | int | float) -> str:
    return f"{Decimal(value):,.2f}"


def base_context(page: Page, department_name: str | None = None) -> dict[str, Any]:
    """What every page's frame shows; DEPARTMENT_NAME when the page has read it already."""
    lang = page.lang
    user = page.user
    if department_name is None:
        department_name = ""
        if user is not None and user.department_id is not None:
            department_name = department_names(page.session).get(user.department_id, "")
    return {
        "user": user,
        "department_name": department_name,
        "csrf_field": lambda: csrf_field(page),
        "form_token": page.new_form_token,
        # One token for a template that writes the field itself; csrf_field() gives each form its own.
        "csrf_token": page.new_form_token(),
        "timezone": page.settings.timezone,
        "flashes": page.flashes,
        "path": page.request.url.path,
        "state_label": lambda s: state_label(str(s), lang),
        "yuan": yuan,
        # A page with a versioned form gives the record's snapshot; a refused form may bring a conflict
        # (services/api/pages/conflicts.py).
        "snapshot": None,
        "conflict": None,
    }


def html(page: Page, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the transaction ends first, so no lock is held while rendering.

    It ends with a commit because the only writes a page view makes are audit rows
    (an unmasked read of personal data) that must be kept; every error path has
    rolled its failed change back before it renders.  An error answer never uses
    up the posted form: it did nothing, so sending it again must be possible.
    """
    known = context.get("department_name")
    if known is None and isinstance(context.get("names"), dict) and page.user is not None:
        known = context["names"].get(page.user.department_id)  # the page read every department's name already
    full = {**base_context(page, known), **context}
    if status >= 400 and page.form_nonce is not None:
        forms.release(page.session, page.form_nonce)
        page.form_nonce = None
    page.session.commit()
    body = render(f"pages/{template}", lang=page.lang, **full)
    # Pages show personal data and per-user state: never from a shared cache or the back button.
    # (Content-Security-Policy and the other security headers: services/api/security_headers.py.)
    response = HTMLResponse(body, status_code=status, headers=NO_STORE_HEADERS)
    if page.had_flash_cookie:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(page: Page, status: int, key: str, **params: Any) -> HTMLResponse:
    # Ends the read transaction (SQLite holds a lock until it ends).
    page.session.rollback()
    return html(page, "error.html", status=status, status_code=status, message=page.gettext(key, **params))


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=NO_STORE_HEADERS)


def redirect_with_flash(page: Page, url: str, key: str, level: str = "ok", **params: Any) -> RedirectResponse:
    response = redirect(url)
    response.set_cookie(FLASH_COOKIE, _flash_cookie(page.settings, Flash(level, page.gettext(key, **params))),
                        max_age=120, httponly=True, samesite="lax", path="/",
                        secure=page.settings.base_url.startswith("https://"))
    return response


def safe_next(value: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/queue"
    return value


def login_redirect(page: Page) -> RedirectResponse:
    request = page.request
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        # A form posted after the session ran out: come back to the page that held the form,
        # not to the POST address (a GET there is 405).
        referer = urlsplit(request.headers.get("referer", ""))
        same_site = referer.netloc in ("", request.url.netloc)
        target = safe_next(referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/queue"
    response = redirect(f"/login?next={quote(target, safe='/')}")
    if request.cookies.get(SESSION_COOKIE):
        clear_session_cookie(response, page.settings)  # expired or revoked: forget it
    return response


def form_version(form: dict[str, str]) -> int:
    """The version a page form carries (the record as it was shown); missing or not a number: 422."""
    text = form.get("version", "").strip()
    if not text.isdigit() or len(text) > 9:
        raise Invalid("version", "field_required")
    return int(text)


def parse_id(raw: str) -> int | None:
    """Ids from the path; anything that is not one is simply not found (never a 422)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def parse_optional_id(raw: str | None) -> int | None:
    return parse_id(raw.strip()) if raw and raw.strip() else None


# ------------------------------------------------------------------ errors

def error_text(page: Page, exc: DomainError | ValidationError) -> str:
    """A domain error or a form validation failure, as one sentence in the user's language."""
    if isinstance(exc, ValidationError):
        items = [
            page.gettext("page.validation.item", field=field_label(page, _loc_name(err.get("loc", ()))),
                      reason=field_reason(dict(err), page.lang)).strip()
            for err in exc.errors()
        ]
        return page.gettext("page.validation", details="；".join(items) if page.lang == "zh-CN" else "; ".join(items))
    if isinstance(exc, Stale):
        return page.gettext("page.stale")
    if isinstance(exc, Invalid):
        reason = translate(exc.key, page.lang, **exc.params)
        item = page.gettext("page.validation.item", field=field_label(page, exc.field), reason=reason).strip()
        return page.gettext("page.validation", details=item)
    return translate(exc.key, page.lang, **exc.params)


def _loc_name(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return parts[0] if parts else ""


def field_label(page: Page, name: str) -> str:
    for key in (f"page.field.{name}", f"page.outcome.{name}"):
        if has_message(key):
            return page.gettext(key)
    return name


def form_values(form: Mapping[str, str], *names: str) -> dict[str, str]:
    """Non-empty posted fields, so that an empty optional input takes the schema's default."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


# ------------------------------------------------------------------ form tokens

class PageAnswer(Exception):  # noqa: N818 - not an error: the answer a dependency gives instead of the handler
    """Raised by a dependency that answers the request itself (refusal or replay)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _answer(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageAnswer)
    return exc.response


def install(app: FastAPI) -> None:
    app.add_exception_handler(PageAnswer, _answer)


def _login_token_ok(page: Page, given: str | None) -> bool:
    nonce = page.request.cookies.get(LOGIN_CSRF_COOKIE)  # sent to /login only (cookie path)
    return bool(nonce) and tokens_match(csrf_for_login(page.settings, nonce or ""), given)


async def guard_form(request: Request, page: PageDep) -> AsyncIterator[None]:
    """The pages router's dependency: every unsafe request needs a valid token, used once.

    Safe requests (the stylesheet too) pay nothing: no form is read.  Files a form
    posted are staged while the request is handled and removed after, unless a
    handler stored them.
    """
    if request.method in SAFE_METHODS:
        yield
        return
    try:
        received = await _receive(request, page.settings)
    except (TooLarge, Invalid) as exc:
        raise PageAnswer(await run_in_threadpool(error_page, page, exc.status, exc.key, **exc.params)) from None
    request.state.posted = received
    try:
        await run_in_threadpool(_check_form_token, page, received.values())
        yield
    finally:
        received.discard()


def _check_form_token(page: Page, form: Mapping[str, str]) -> None:
    given = form.get(FORM_TOKEN_FIELD)
    if _login_token_ok(page, given):
        return
    binding = page.request.cookies.get(SESSION_COOKIE)
    try:
        if not binding:
            raise forms.TokenRefused()
        token = forms.verify(page.settings.secret_key, binding, given, page.now())
    except forms.TokenRefused as refused:
        if refused.expired and page.user is None:
            raise PageAnswer(login_redirect(page)) from None
        raise PageAnswer(error_page(page, 400 if refused.expired else 403,
                                    N_("page.form_expired") if refused.expired else N_("page.csrf_failed"))) from None
    if page.user is None:
        return  # the session ended: the handler sends the user to sign in, nothing is done
    body = forms.body_digest(form, ignore=(FORM_TOKEN_FIELD,))
    earlier = forms.claim(page.session, token, page.user.id, page.now(), body)  # type: ignore[arg-type]
    if earlier is not None:
        page.session.rollback()
        if earlier.body_sha256 == body:  # the same form again: double click, F5, back and resend
            raise PageAnswer(redirect_with_flash(page, safe_next(earlier.result_path), N_("page.already_done")))
        # An old form, edited and sent again: its first post acted; this one may not.
        raise PageAnswer(redirect_with_flash(page, safe_next(earlier.result_path), N_("page.already_done_edited"),
                                             level="error"))
    page.form_nonce = token.nonce


def commit_refusal(page: Page) -> None:
    """Commit what a refused action must keep (a throttle count), but not the form's use: it did nothing."""
    if page.form_nonce is not None:
        forms.release(page.session, page.form_nonce)
        page.form_nonce = None
    page.session.commit()


def done(page: Page, url: str) -> None:
    """A page action succeeded: remember where it leads (a replay goes there) and commit it.

    The change, the token's use and (after the commit) the relay kick are one
    unit; the caller then redirects to URL.
    """
    if page.form_nonce is not None:
        forms.record_result(page.session, page.form_nonce, url)
    page.session.commit()


def department_names(session: Session) -> Mapping[int, str]:
    return choices(session).names


def active_departments(session: Session) -> tuple[Choice, ...]:
    return choices(session).departments


def campaign_choices(session: Session) -> tuple[Choice, ...]:
    return choices(session).campaigns


def login_nonce() -> str:
    return secrets.token_urlsafe(24)


def xlsx_download(page: Page, body: bytes, prefix: str) -> Response:
    """A list's export as a download: never kept by a cache, named by the list and the local minute."""
    stamp = page.now().astimezone(page.settings.tz)
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{filename(prefix, stamp)}"', **NO_STORE_HEADERS})


def not_found(page: Page) -> Response:
    return error_page(page, 404, "not_found")


def detail_page(page: Page, raw_id: str, context: Callable[[Page, int], dict[str, Any]], template: str) -> Response:
    """A record's page: sign-in first, then 404 alike for a bad, missing or out-of-reach id."""
    if page.user is None:
        return login_redirect(page)
    record_id = parse_id(raw_id)
    if record_id is None:
        return not_found(page)
    try:
        values = context(page, record_id)
    except NotFound:
        return not_found(page)
    return html(page, template, **values)

# Labels the pages build from a value (field_label, "page.source." ~ case.source in the templates …):
# declared here so that extraction (make i18n) finds them.
_BUILT_KEYS = (
    N_("page.extension.approved"), N_("page.extension.denied"), N_("page.extension.pending"),
    N_("page.field.comment"), N_("page.field.cursor"), N_("page.field.decision_note"),
    N_("page.field.department_id"), N_("page.field.extra_working_days"), N_("page.field.instructions"),
    N_("page.field.language"), N_("page.field.narrative"), N_("page.field.note"), N_("page.field.notify_mode"),
    N_("page.field.reason"), N_("page.field.text"), N_("page.field.version"), N_("page.field.working_days"),
    N_("page.outcome.cases_filed"), N_("page.outcome.complaints_mediated"),
    N_("page.outcome.enterprises_inspected"), N_("page.outcome.fines_yuan"),
    N_("page.outcome.losses_recovered_yuan"), N_("page.outcome.problems_found"),
    N_("page.outcome.rectification_orders"), N_("page.priority.high"), N_("page.priority.low"),
    N_("page.priority.normal"), N_("page.priority.urgent"), N_("page.queue.bucket.due_soon"),
    N_("page.queue.bucket.in_progress"), N_("page.queue.bucket.overdue"), N_("page.queue.bucket.to_accept"),
    N_("page.review.approved"), N_("page.review.sent_back"), N_("page.signoff.signed_off"),
    N_("page.signoff.sent_back"), N_("page.role.admin"), N_("page.role.coordinator"),
    N_("page.role.head"), N_("page.role.leader"), N_("page.role.liaison"),
    N_("page.settings.notify_mode.digest"), N_("page.settings.notify_mode.immediate"),
    N_("page.source.hotline_12315"), N_("page.source.inspection"), N_("page.source.media"),
    N_("page.source.online_platform"), N_("page.source.other"), N_("page.source.referral"),
    N_("page.status.closed"), N_("page.status.open"),
)
