"""Every page form carries a one-time token: posted twice it acts once, forged it does nothing, and the
pages router checks it for every handler, present and future."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.responses import Response
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlmodel import Session

from services.api import pages
from services.api.app import create_app
from services.api.pages.common import PageDep, redirect
from shared.assignments.models import Assignment, AssignmentState
from shared.events.models import Event
from shared.forms import service as forms
from shared.forms.models import FormTokenUse
from shared.users.models import User
from tests.factories import PASSWORD, World
from tests.test_pages import browser, form_fields, state_of

ALREADY = "该表单已提交过"


def _count(app: Any, model: Any, *where: Any) -> int:
    with Session(app.state.engine) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _post_twice(client: Any, page_path: str, action: str, **fields: str) -> tuple[Any, Any]:
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    data = {**form_fields(page.text, action), **fields}
    return client.post(action, data=data), client.post(action, data=data)


def test_a_dispatch_form_posted_twice_dispatches_once(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    path = f"/cases/{case.id}"
    coordinator = browser(app, world.coordinator)
    first, second = _post_twice(coordinator, path, f"{path}/dispatch", lead_department_id=str(world.dept("TYJ").id),
                                working_days="5", instructions="核查体育经营许可")
    assert (first.status_code, first.headers["location"]) == (303, path)
    assert (second.status_code, second.headers["location"]) == (303, path)  # to the result, not an error
    assert _count(app, Assignment, Assignment.case_id == case.id) == 1  # type: ignore[arg-type]
    assert ALREADY in coordinator.get(path).text


def test_an_accept_form_posted_twice_accepts_once(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    first, second = _post_twice(liaison, path, f"{path}/accept")
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == path  # not a 412 about the version the first post moved on
    assert state_of(app, a.id) == (AssignmentState.ACCEPTED, 2)
    assert _count(app, Event, Event.object_id == a.id, Event.action == "accepted") == 1  # type: ignore[arg-type]


def test_a_comment_form_posted_twice_comments_once(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("TYJ",))
    path = f"/cases/{case.id}"
    first, second = _post_twice(browser(app, world.liaison("TYJ")), path, f"{path}/comment", text="已安排人员核查")
    assert first.status_code == second.status_code == 303
    assert _count(app, Event, Event.case_id == case.id, Event.action == "commented") == 1  # type: ignore[arg-type]


def test_an_old_form_edited_and_sent_again_changes_nothing_and_says_so(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                       make_case) -> None:
    case = make_case(shared=("TYJ",))
    path = f"/cases/{case.id}"
    liaison = browser(app, world.liaison("TYJ"))
    fields = form_fields(liaison.get(path).text, f"{path}/comment")
    assert liaison.post(f"{path}/comment", data={**fields, "text": "已安排人员核查"}).status_code == 303
    liaison.get(path)  # reads the first flash
    r = liaison.post(f"{path}/comment", data={**fields, "text": "改过的备注"})  # back button, edited, sent
    assert (r.status_code, r.headers["location"]) == (303, path)
    assert "本次修改未生效" in liaison.get(path).text
    assert _count(app, Event, Event.case_id == case.id, Event.action == "commented") == 1  # type: ignore[arg-type]


def test_each_form_on_a_page_has_its_own_token(app: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    """Commenting does not use up the dispatch form shown beside it."""
    case = make_case()
    path = f"/cases/{case.id}"
    coordinator = browser(app, world.coordinator)
    page = coordinator.get(path).text
    comment, dispatch = form_fields(page, f"{path}/comment"), form_fields(page, f"{path}/dispatch")
    assert comment["csrf_token"] != dispatch["csrf_token"]
    assert coordinator.post(f"{path}/comment", data={**comment, "text": "先沟通"}).status_code == 303
    r = coordinator.post(f"{path}/dispatch", data={**dispatch, "lead_department_id": str(world.dept("TYJ").id),
                                                   "instructions": "核查体育经营许可"})
    assert r.status_code == 303 and _count(app, Assignment, Assignment.case_id == case.id) == 1  # type: ignore[arg-type]


def test_a_refused_form_can_be_corrected_and_sent_again(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    fields = form_fields(liaison.get(path).text, f"{path}/return")
    r = liaison.post(f"{path}/return", data={**fields, "reason": "other", "note": ""})
    assert r.status_code == 422  # nothing done, so the token is not used up
    r = liaison.post(f"{path}/return", data={**fields, "reason": "other", "note": "属区级职责"})
    assert r.status_code == 303 and state_of(app, a.id)[0] == AssignmentState.RETURNED


def test_a_wrong_current_password_counts_but_does_not_use_up_the_form(app: Any, world: World) -> None:
    """The refusal commits (the sign-in throttle counts it) without the form's use: it did nothing."""
    client = browser(app, world.liaison("XFXH"))
    fields = form_fields(client.get("/settings").text, "/settings/password")
    new = {"new_password": "另一个密码-2026", "new_password_confirm": "另一个密码-2026"}
    assert client.post("/settings/password", data={**fields, **new, "current_password": "not-it"}).status_code == 422
    assert _count(app, FormTokenUse) == 0
    r = client.post("/settings/password", data={**fields, **new, "current_password": PASSWORD})
    assert r.status_code == 303 and _count(app, FormTokenUse) == 1


def test_a_forged_post_is_refused_and_changes_nothing(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    fields = form_fields(liaison.get(path).text, f"{path}/accept")
    for forged in ({"version": fields["version"]},  # no token
                   {**fields, "csrf_token": "x" + fields["csrf_token"]},  # tampered
                   {**fields, "csrf_token": forms.issue("not-our-secret", "any", app.state.clock.now())}):
        r = liaison.post(f"{path}/accept", data=forged)
        assert r.status_code == 403 and "请求来源无法验证" in r.text
    r = liaison.post(f"/cases/{case.id}/comment", data={"text": "伪造的备注"})
    assert r.status_code == 403
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)
    assert _count(app, Event, Event.action == "commented") == 0
    assert _count(app, FormTokenUse) == 0


def test_an_expired_form_is_refused_in_the_users_language(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                        session: Session, clock) -> None:
    user = session.get(User, world.liaison("XFXH").id)
    assert user is not None
    user.language = "en"
    session.commit()
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, user)
    fields = form_fields(liaison.get(path).text, f"{path}/accept")
    clock.advance(forms.TOKEN_TTL + timedelta(minutes=1))  # the session itself lives longer in these tests
    r = liaison.post(f"{path}/accept", data=fields)
    assert r.status_code == 400 and "The form expired and nothing was changed" in r.text
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)


def test_a_token_dies_with_its_session(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    old = browser(app, world.liaison("XFXH"))
    fields = form_fields(old.get(path).text, f"{path}/accept")
    again = browser(app, world.liaison("XFXH"))  # the same person, signed in anew
    assert again.post(f"{path}/accept", data=fields).status_code == 403
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)


def _page_routes(router: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in router.routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers as branches
            found.extend(_page_routes(route.original_router))
    return found


def test_every_unsafe_page_route_refuses_a_post_without_a_token(app: Any, world: World, make_case,  # type: ignore[no-untyped-def]
                                                               dispatch) -> None:
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    unsafe = [r for r in _page_routes(pages.router) if r.methods - {"GET", "HEAD", "OPTIONS"}]
    assert {r.path for r in unsafe} >= {"/login", "/logout", "/cases/{case_id}/dispatch",
                                        "/assignments/{assignment_id}/accept"}
    events = _count(app, Event)
    for client in (browser(app, world.coordinator), browser(app, world.liaison("XFXH")), browser(app)):
        for route in unsafe:
            path = re.sub(r"{[^}]+}", str(a.id), route.path)
            for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
                r = client.request(method, path, data={"version": "1", "text": "x", "department_id": "1"})
                assert r.status_code == 403, (method, path)
    assert _count(app, Event) == events and _count(app, FormTokenUse) == 0
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)


def test_a_new_post_handler_gets_the_check_without_asking(world: World, settings, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """A handler written without a thought for tokens: the router refuses forgeries and replays for it."""
    ran: list[str] = []

    @pages.router.post("/probe")
    def probe(page: PageDep) -> Response:
        ran.append("probe")
        page.session.commit()  # whatever it changed, with the token's use
        return redirect("/queue")

    try:
        app = create_app(settings, engine=engine, clock=clock, kick=lambda: True)
        client = browser(app, world.liaison("XFXH"))
        assert client.post("/probe", data={}).status_code == 403 and ran == []
        fields = form_fields(client.get("/queue").text, "/logout")  # any token the pages hand out
        assert client.post("/probe", data=fields).status_code == 303 and ran == ["probe"]
        r = client.post("/probe", data=fields)
        assert r.status_code == 303 and ran == ["probe"]  # the replay never reached the handler
    finally:
        pages.router.routes[:] = [r for r in pages.router.routes if getattr(r, "path", "") != "/probe"]


def test_two_posts_of_one_token_at_once_act_once(postgres_database: str, world: World, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the second claim waits for the first transaction, then finds its row."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the race needs PostgreSQL")
    token = forms.verify("secret", "session", forms.issue("secret", "session", clock.now()), clock.now())
    user_id = world.liaison("XFXH").id
    outcome: list[Any] = []
    with Session(engine) as first:
        assert forms.claim(first, token, user_id, clock.now()) is None
        forms.record_result(first, token.nonce, "/cases/1")

        def second() -> None:
            with Session(engine) as s:
                earlier = forms.claim(s, token, user_id, clock.now())
                outcome.append(earlier.result_path if earlier else "acted")
                s.commit()

        racer = threading.Thread(target=second)
        racer.start()
        racer.join(1.0)
        assert racer.is_alive() and outcome == []  # blocked on the first one's row
        first.commit()
    racer.join(10)
    assert outcome == ["/cases/1"]
