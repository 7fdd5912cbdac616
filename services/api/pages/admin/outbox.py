"""邮件发送: mail whose delivery is unknown (the worker died mid-send) or failed, to resend or
discard; any other state listed on request.  The same URL with ``format=xlsx``
downloads what the page lists, every page of it (shared/outbox/export.py).

The same use cases as ``/api/v1/admin/outbox`` (``shared.outbox.admin``); a resend
wakes the relay through the after-commit hook, as there.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import Response

from services.api.pages.admin.base import actor, admin_html
from services.api.pages.common import (
    Flash,
    FormDep,
    Page,
    PageDep,
    done,
    error_text,
    login_redirect,
    not_found,
    parse_id,
    parse_optional_id,
    redirect_with_flash,
    xlsx_download,
)
from shared.errors import DomainError, InvalidTransition, NotFound, Unauthorized
from shared.i18n import N_
from shared.outbox import admin
from shared.outbox.export import export_outbox
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.smtp import message_id, sender_domain
from shared.users.names import user_names

router = APIRouter()

PAGE_SIZE = 50
# What waits for an admin's decision, shown first and without asking.
UNDECIDED = (OutboxState.UNKNOWN, OutboxState.FAILED)
STATES = [s.value for s in OutboxState]
# Labels built from a value in the templates: declared for extraction.
_BUILT_KEYS = (
    N_("page.admin.outbox.state.pending"), N_("page.admin.outbox.state.sending"), N_("page.admin.outbox.state.sent"),
    N_("page.admin.outbox.state.failed"), N_("page.admin.outbox.state.unknown"),
    N_("page.admin.outbox.state.discarded"), N_("page.admin.outbox.action.retry"),
    N_("page.admin.outbox.action.discard"), N_("page.admin.outbox.action_on.retry"),
    N_("page.admin.outbox.action_on.discard"), N_("page.admin.outbox.explain.unknown"),
    N_("page.admin.outbox.explain.failed"), N_("page.admin.outbox.explain.pending"),
)


def _state(value: str | None) -> OutboxState | None:
    try:
        return OutboxState(value) if value else None
    except ValueError:
        return None


def _people(page: Page, messages: list[OutboxMessage]) -> dict[int, str]:
    return user_names(page.session, {m.recipient_user_id for m in messages})


@router.get("/outbox")
def outbox_page(page: PageDep, state: str | None = None, before: str | None = None,
                format: str | None = None) -> Response:
    me = actor(page)
    chosen = _state(state)
    if format == "xlsx":
        body = export_outbox(page.session, me, [chosen] if chosen else UNDECIDED, language=page.lang,
                             timezone=page.settings.timezone)
        return xlsx_download(page, body, "outbox")
    counts = admin.counts(page.session, me)
    if chosen is None:
        sections = [(s.value, list(admin.list_messages(page.session, me, state=s, limit=PAGE_SIZE)))
                    for s in UNDECIDED]
        next_url = None
    else:
        before_id = parse_optional_id(before)
        rows = list(admin.list_messages(page.session, me, state=chosen, limit=PAGE_SIZE + 1, before_id=before_id))
        sections = [(chosen.value, rows[:PAGE_SIZE])]
        next_url = (f"/admin/outbox?{urlencode({'state': chosen.value, 'before': rows[PAGE_SIZE - 1].id})}"
                    if len(rows) > PAGE_SIZE else None)
    shown = [m for _s, rows in sections for m in rows]
    back = page.request.url.path + (f"?{page.request.url.query}" if page.request.url.query else "")
    return admin_html(page, "outbox.html", "outbox", counts=counts, states=STATES,
                      chosen=chosen.value if chosen else None, sections=sections, next_url=next_url,
                      people=_people(page, shown), page_size=PAGE_SIZE, back=back,
                      export_url="/admin/outbox?" + urlencode({**({"state": chosen.value} if chosen else {}),
                                                               "format": "xlsx"}),
                      actions={s.value: sorted(a) for s, a in admin.ADMIN_ACTIONS.items()})


def _detail(page: Page, mid: int, status: int = 200) -> Response:
    try:
        message = admin.get_message(page.session, actor(page), mid)
    except NotFound:
        return not_found(page)
    assert message.id is not None
    return admin_html(page, "outbox_message.html", "outbox", status=status, message=message,
                      message_id=message_id(message.id, message.dedup_key, sender_domain(page.settings.mail_from)),
                      people=_people(page, [message]),
                      actions=sorted(admin.ADMIN_ACTIONS.get(OutboxState(message.state), {})))


@router.get("/outbox/{message_id}")
def outbox_message_page(page: PageDep, message_id: str) -> Response:
    mid = parse_id(message_id)
    return not_found(page) if mid is None else _detail(page, mid)


def _back(form: dict[str, str], mid: int) -> str:
    """Back to the list the button was on, or the message; never anywhere outside the outbox pages."""
    back = form.get("back", "")
    ok = (back == "/admin/outbox" or back.startswith(("/admin/outbox?", "/admin/outbox/"))) and "//" not in back
    return back if ok else f"/admin/outbox/{mid}"


def _act(page: Page, raw_id: str, form: dict[str, str], action: str) -> Response:
    mid = parse_id(raw_id)
    if mid is None:
        return not_found(page)
    url = _back(form, mid)
    run = admin.retry if action == admin.RETRY else admin.discard
    try:
        run(page.session, page.clock, actor(page), mid)
        done(page, url)
    except DomainError as exc:
        page.session.rollback()
        if isinstance(exc, Unauthorized):
            return login_redirect(page)
        if isinstance(exc, NotFound):
            return not_found(page)
        if isinstance(exc, InvalidTransition):
            text = page.gettext(N_("page.admin.outbox.not_allowed"),
                                state=page.gettext(f"page.admin.outbox.state.{exc.current}"),
                                action=page.gettext(f"page.admin.outbox.action.{action}"))
        else:
            text = error_text(page, exc)
        page.flashes.append(Flash("error", text))
        return _detail(page, mid, exc.status)
    done_key = N_("page.admin.outbox.done.retry") if action == admin.RETRY else N_("page.admin.outbox.done.discard")
    return redirect_with_flash(page, url, done_key, id=mid)


@router.post("/outbox/{message_id}/retry")
def retry(page: PageDep, message_id: str, form: FormDep) -> Response:
    return _act(page, message_id, form, admin.RETRY)


@router.post("/outbox/{message_id}/discard")
def discard(page: PageDep, message_id: str, form: FormDep) -> Response:
    return _act(page, message_id, form, admin.DISCARD)
