"""The calendar feed's secret address, ``GET /ics/{token}.ics``, and making and revoking feeds on /settings.

No session: calendar programs cannot sign in, so the address itself is the key
(shared/calendar_feeds).  An unknown, revoked or lapsed token answers a bare
404, the same for each, so nothing can be learned by trying addresses.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from services.api.caching import NO_STORE_HEADERS
from services.api.pages.common import (
    FormDep,
    Page,
    PageDep,
    department_names,
    done,
    login_redirect,
    not_found,
    parse_id,
    redirect_with_flash,
)
from services.api.path_gate import PathGate
from shared.calendar_feeds import ics
from shared.calendar_feeds import service as feeds
from shared.calendar_feeds.models import FeedKind
from shared.errors import DomainError, NotFound, Unauthorized
from shared.i18n import N_

router = PathGate()

HEADERS = {
    **NO_STORE_HEADERS,
    "Referrer-Policy": "no-referrer",  # stricter than every other answer's: the URL is the secret
    "X-Robots-Tag": "noindex",
}


@router.get("/ics/{token}.ics")
def calendar_feed(token: str, page: PageDep) -> Response:
    # The page's session, the one the pages router's form guard opened: a second would be a second connection
    # (and on SQLite a second transaction in the way of the first).
    session, clock, settings = page.session, page.clock, page.settings
    try:
        feed, owner = feeds.resolve(session, token)
    except NotFound:
        session.rollback()
        return Response(status_code=404, headers=HEADERS, media_type="text/plain; charset=utf-8",
                        content="404 Not Found")
    body = ics.build(session, clock, settings, feed, owner)
    session.rollback()  # read only
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={**HEADERS, "Content-Disposition": 'inline; filename="gongzhi.ics"'})


# ------------------------------------------------------------------ the settings page's section

def feed_section(page: Page) -> dict[str, Any]:
    """What templates/pages/inspections/_feeds.html shows on /settings."""
    assert page.user is not None
    return {
        "feeds": feeds.active_for(page.session, page.user),
        "may_make_department_feed": feeds.may_make_department_feed(page.user),
        "feed_names": department_names(page.session),
    }


def _feed_address(page: Page, token: str) -> str:
    return f"{page.settings.base_url.rstrip('/')}/ics/{token}.ics"


@router.post("/settings/feeds")
def create_feed(page: PageDep, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    try:
        kind = FeedKind(form.get("kind", ""))
    except ValueError:
        kind = FeedKind.USER
    try:
        _feed, token = feeds.create(page.session, page.clock, page.user, kind)
        done(page, "/settings")
    except DomainError as exc:
        page.session.rollback()  # the form's use goes with it: nothing was done
        if isinstance(exc, Unauthorized):
            return login_redirect(page)
        return redirect_with_flash(page, "/settings#feeds-h", exc.key, level="error", **exc.params)
    # Shown this once (only the hash is kept); the flash travels in a signed two-minute cookie.
    return redirect_with_flash(page, "/settings#feeds-h", N_("page.done.feed_created"),
                               address=_feed_address(page, token))


@router.post("/settings/feeds/{feed_id}/revoke")
def revoke_feed(page: PageDep, feed_id: str, form: FormDep) -> Response:
    if page.user is None:
        return login_redirect(page)
    fid = parse_id(feed_id)
    if fid is None:
        return not_found(page)
    try:
        feeds.revoke(page.session, page.clock, page.user, fid)
        done(page, "/settings")
    except NotFound:
        return not_found(page)
    return redirect_with_flash(page, "/settings#feeds-h", N_("page.done.feed_revoked"))
