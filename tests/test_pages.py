"""The server-rendered pages, driven like a browser would: GET a page, post its form.

Runs on SQLite and PostgreSQL (the `app`/`world` fixtures sit on `db_url`).
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.api.deps import SESSION_COOKIE
from services.api.pages import cases as case_pages
from shared.assignments import service as assignments
from shared.assignments.models import Assignment, AssignmentState, ReturnReason
from shared.assignments.schemas import FeedbackIn, RedispatchIn, ReturnIn
from shared.audit.models import AuditEntry
from shared.users import service as users
from shared.users.models import User
from tests.factories import PASSWORD, World
from tests.relay_kicks import counting_kicks

STALE = "记录已被他人修改"  # the page then shows their change beside the typed text (test_edit_conflicts.py)


def immediate(session: Any, user: Any) -> None:
    from shared.users.models import NotifyMode

    row = session.get(User, user.id)
    row.notify_mode = NotifyMode.IMMEDIATE
    session.commit()


@pytest.fixture(autouse=True)
def kicks(app: Any) -> Iterator[list[int]]:
    """Count relay kicks instead of talking to a broker (delivery has its own tests)."""
    with counting_kicks() as calls:
        yield calls


def browser(app: Any, user: User | None = None) -> TestClient:
    """A client holding the session cookie of `user` (issued directly; the login form has its own test)."""
    client = TestClient(app, follow_redirects=False)
    if user is not None:
        with Session(app.state.engine, expire_on_commit=False) as s:
            token = users.issue_token(s, app.state.clock, app.state.settings, user)
            s.commit()
        client.cookies.set(SESSION_COOKIE, token)
    return client


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ACTION, as the browser would send them."""
    m = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert m, f"no form posting to {action}"
    return {name: htmllib.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', m.group(1))}


def without_tokens(page: str) -> str:
    """A page with its one-time form tokens blanked (each render issues new ones)."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page)


def has_form(page: str, action: str) -> bool:
    return f'action="{action}"' in page


def submit(client: TestClient, page_path: str, action: str, **fields: str) -> Any:
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**form_fields(page.text, action), **fields})


def state_of(app: Any, assignment_id: int) -> tuple[AssignmentState, int]:
    with Session(app.state.engine) as s:
        a = s.get(Assignment, assignment_id)
        assert a is not None
        return AssignmentState(a.state), a.version


# ------------------------------------------------------------------ sign-in

def test_login_form_sets_the_api_session_cookie_and_follows_next(app: Any, world: World) -> None:
    client = browser(app)
    r = client.get("/assignments/7")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/assignments/7"
    page = client.get("/login?next=/assignments/7")
    assert page.status_code == 200 and "用户名" in page.text
    fields = form_fields(page.text, "/login")
    r = client.post("/login", data={**fields, "username": "liaison_xfxh", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/assignments/7"
    assert SESSION_COOKIE in r.cookies
    # The very same cookie works for the JSON API.
    assert client.get("/api/v1/me").json()["username"] == "liaison_xfxh"
    assert "消费者协会 工作台" in client.get("/queue").text


def test_wrong_password_and_foreign_next_and_missing_csrf(app: Any, world: World) -> None:
    client = browser(app)
    fields = form_fields(client.get("/login?next=//evil.example/x").text, "/login")
    assert fields["next"] == "/queue"  # never an open redirect
    r = client.post("/login", data={**fields, "username": "liaison_xfxh", "password": "wrong-password"})
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert SESSION_COOKIE not in r.cookies
    r = browser(app).post("/login", data={"username": "liaison_xfxh", "password": PASSWORD, "next": "/queue"})
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies


def test_logout_revokes_the_session(app: Any, world: World) -> None:
    client = browser(app, world.liaison("XFXH"))
    r = submit(client, "/queue", "/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "您已退出登录" in client.get("/login").text
    token = r.headers.get("set-cookie", "")
    assert SESSION_COOKIE in token  # deleted
    assert client.get("/queue").status_code == 303


def test_root_redirects_to_queue(app: Any, world: World) -> None:
    r = browser(app, world.liaison("XFXH")).get("/")
    assert r.status_code == 303 and r.headers["location"] == "/queue"


# ------------------------------------------------------------------ reading

def test_queue_shows_the_four_buckets_and_local_deadlines(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=5)
    page = browser(app, world.liaison("XFXH")).get("/queue")
    assert page.status_code == 200
    for bucket in ("待签收", "办理中", "2 个工作日内到期", "已逾期"):
        assert bucket in page.text
    assert f'href="/assignments/{a.id}"' in page.text
    # Dispatched Tue 2026-12-01 10:00 Shanghai; 5 working days end Tue 12-08 at 17:30 local (09:30 UTC).
    assert "2026-12-08（周二）17:30" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"


def _queue_row(page: str, assignment_id: int) -> str:
    """The queue list's row of one assignment (the page keeps the list rendered: it must follow every change)."""
    rows = [r for r in page.split("<tr") if f'href="/assignments/{assignment_id}"' in r]
    assert len(rows) == 1, rows
    return rows[0]


def test_queue_list_shows_each_change_at_the_next_request(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                          session: Session, clock) -> None:
    from shared.supervision import service as supervision
    from shared.supervision.models import UrgeKind

    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=5)
    liaison = world.liaison("XFXH")
    client = browser(app, liaison)
    row = _queue_row(client.get("/queue").text, a.id)
    assert "待签收" in row and "督办" not in row
    assert _queue_row(client.get("/queue").text, a.id) == row  # the same rows: the same list
    supervision.urge(session, clock, world.coordinator, a.id, a.version, UrgeKind.SUPERVISE)
    session.commit()
    row = _queue_row(client.get("/queue").text, a.id)
    assert "督办" in row and "待签收" in row
    a = session.get(Assignment, a.id)
    assert a is not None
    assignments.accept(session, clock, liaison, a.id, a.version)
    session.commit()
    row = _queue_row(client.get("/queue").text, a.id)
    assert "办理中" in row and "待签收" not in row and "督办" in row
    # The same rows in English for the reader who changes his language: the Chinese list is not served to him.
    me = session.get(User, liaison.id)
    assert me is not None
    users.update_preferences(session, clock, me, me.version, {"language": "en"})
    session.commit()
    row = _queue_row(client.get("/queue").text, a.id)
    assert "办理中" not in row and "Supervised" in row, row


def test_queue_bucket_filter_and_overdue_badge(app: Any, world: World, make_case, dispatch, clock) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    late = dispatch(case, "XFXH", days=1)
    clock.advance(days=7)
    fresh = dispatch(case, "XFXH", days=10)
    client = browser(app, world.liaison("XFXH"))
    overdue = client.get("/queue?bucket=overdue").text
    assert f"/assignments/{late.id}\"" in overdue and f"/assignments/{fresh.id}\"" not in overdue
    assert "已逾期" in overdue
    to_accept = client.get("/queue?bucket=to_accept").text
    assert f"/assignments/{late.id}\"" in to_accept and f"/assignments/{fresh.id}\"" in to_accept


def test_coordinator_picks_a_department_and_sees_review_list(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                           session: Session, clock) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    liaison = world.liaison("XFXH")
    a = assignments.accept(session, clock, liaison, a.id, a.version)
    assignments.submit_feedback(session, clock, liaison, a.id, a.version, FeedbackIn(narrative="已约谈"))  # type: ignore[arg-type]
    session.commit()
    client = browser(app, world.coordinator)
    page = client.get(f"/queue?department_id={world.dept('XFXH').id}").text
    assert 'name="department_id"' in page
    assert "待审核反馈" in page and "两次退回，待审定" in page
    assert f"/assignments/{a.id}\"" in page
    # A liaison cannot look into another department's queue by editing the URL.
    other = browser(app, world.liaison("GAJ")).get(f"/queue?department_id={world.dept('XFXH').id}").text
    assert "公安局 工作台" in other and f"/assignments/{a.id}\"" not in other


def test_unshared_case_is_not_found_exactly_like_a_missing_one(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                              api) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    outsider = browser(app, world.liaison("GAJ"))
    for path, missing in ((f"/cases/{case.id}", "/cases/999999"), (f"/assignments/{a.id}", "/assignments/999999")):
        hidden, absent = outsider.get(path), outsider.get(missing)
        assert hidden.status_code == absent.status_code == 404
        assert without_tokens(hidden.text) == without_tokens(absent.text)
        assert case.title not in hidden.text
    assert api.as_user(world.liaison("GAJ")).get(f"/api/v1/cases/{case.id}").status_code == 404
    assert outsider.get("/cases/abc").status_code == 404


def test_shared_department_sees_masked_complainant_lead_sees_it_audited(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                       make_case, session: Session) -> None:
    case = make_case(shared=("XFXH",))
    shared_view = browser(app, world.liaison("XFXH")).get(f"/cases/{case.id}").text
    assert "张*" in shared_view and "138****5678" in shared_view
    assert "张三" not in shared_view and "13812345678" not in shared_view and "11010119900307451X" not in shared_view
    lead_view = browser(app, world.liaison("SCJG")).get(f"/cases/{case.id}").text
    assert "张三" in lead_view and "13812345678" in lead_view
    reads = session.exec(select(AuditEntry).where(AuditEntry.case_id == case.id)).all()
    assert [(e.actor_id, e.action) for e in reads] == [(world.liaison("SCJG").id, "personal_data_read")]


def test_case_page_lists_shares_assignments_and_timeline(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH", "TYJ"))
    a = dispatch(case, "XFXH")
    page = browser(app, world.leader).get(f"/cases/{case.id}").text
    assert "消费者协会" in page and "体育局" in page
    assert f'href="/assignments/{a.id}"' in page
    assert "开案" in page and "派发任务" in page  # timeline lines
    assert not has_form(page, f"/cases/{case.id}/comment")  # leaders read only


def test_case_list_filters_and_keyset_pages(app: Any, world: World, make_case, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    titles = [f"预付卡案件{i}" for i in range(5)]
    for t in titles:
        make_case(title=t)
    make_case(title="直播带货虚假宣传", category="网络消费")
    monkeypatch.setattr(case_pages, "PAGE_SIZE", 2)
    client = browser(app, world.coordinator)
    seen: list[str] = []
    url: str | None = "/cases?q=预付卡"
    while url:
        page = client.get(url).text
        assert "直播带货" not in page
        seen += re.findall(r"预付卡案件\d", page)
        m = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = htmllib.unescape(m.group(1)) if m else None
    assert sorted(seen) == sorted(titles)  # every case once, across pages
    assert "直播带货" in client.get("/cases?category=网络消费").text
    assert "分页位置" in client.get("/cases?cursor=garbage").text  # an edited cursor: said, first page shown



def _case_row(page: str, case_id: int) -> str:
    rows = re.findall(rf'<tr>\s*<td class="nowrap card-head"[^>]*><a href="/cases/{case_id}">.*?</tr>', page, re.S)
    assert len(rows) == 1, rows
    return rows[0]


def test_case_list_rows_show_each_change_and_the_readers_language(app: Any, world: World, make_case,  # type: ignore[no-untyped-def]
                                                                  session: Session, clock) -> None:
    """A row is rendered once per its values (services/api/pages/cases.py CASE_ROW): an edit, the typical
    flag and the reader's language each give the row anew, and an unchanged row reads the same."""
    from shared.cases import service as cases
    from shared.cases.schemas import CaseUpdate

    case = make_case(lead="XFXH", title="预付卡退费投诉", priority="normal")
    client = browser(app, world.liaison("XFXH"))
    row = _case_row(client.get("/cases").text, case.id)
    assert "预付卡退费投诉" in row and "一般" in row and "典型" not in row and world.dept("XFXH").name in row
    assert _case_row(client.get("/cases?q=预付卡").text, case.id) == row
    cases.update_case(session, clock, world.coordinator, case.id, case.version,
                                CaseUpdate(title="预付卡退费投诉（补充材料）", priority="urgent", is_typical=True))
    session.commit()
    row = _case_row(client.get("/cases").text, case.id)
    assert "（补充材料）" in row and "紧急" in row and "一般" not in row and "典型" in row, row
    me = session.get(User, world.liaison("XFXH").id)
    assert me is not None
    users.update_preferences(session, clock, me, me.version, {"language": "en"})
    session.commit()
    row = _case_row(client.get("/cases").text, case.id)
    assert "紧急" not in row and "urgent" in row and 'data-label="Title"' in row, row


def _assignment_row(page: str, assignment_id: int) -> str:
    rows = re.findall(rf'<tr[^>]*>\s*<td class="nowrap card-head"[^>]*><a href="/assignments/{assignment_id}">.*?</tr>',
                      page, re.S)
    assert len(rows) == 1, rows
    return rows[0]


def test_assignment_rows_show_each_change_and_whose_work_it_is(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                                session: Session, clock) -> None:
    """A row of an assignment table is rendered once per its values (shared.templating ASSIGNMENT_ROW): its
    state, the reader's own work (我承办), an overdue and the reader's language each give it anew."""
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=5)
    path = f"/cases/{case.id}"
    mine, colleague = browser(app, world.liaison("XFXH")), browser(app, world.head("XFXH"))
    row = _assignment_row(mine.get(path).text, a.id)
    assert "待签收" in row and "我承办" not in row and "已逾期" not in row, row

    assignments.accept(session, clock, world.liaison("XFXH"), a.id, a.version)
    session.commit()
    row = _assignment_row(mine.get(path).text, a.id)
    assert "办理中" in row and "待签收" not in row and "我承办" in row, row
    other = _assignment_row(colleague.get(path).text, a.id)
    assert "办理中" in other and "我承办" not in other, other  # the same row, read by someone else
    assert _assignment_row(mine.get("/queue").text, a.id).count("我承办") == 1

    clock.advance(days=30)
    row = _assignment_row(mine.get(path).text, a.id)
    assert "已逾期" in row and 'class="row-overdue"' in row, row
    me = session.get(User, world.liaison("XFXH").id)
    assert me is not None
    users.update_preferences(session, clock, me, me.version, {"language": "en"})
    session.commit()
    row = _assignment_row(mine.get(path).text, a.id)
    assert "办理中" not in row and "in progress" in row and 'data-label="State"' in row, row


# ------------------------------------------------------------------ acting

def test_forms_offered_are_exactly_the_allowed_actions(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH", "TYJ"))
    a = dispatch(case, "XFXH")
    mine = browser(app, world.liaison("XFXH")).get(f"/assignments/{a.id}").text
    assert has_form(mine, f"/assignments/{a.id}/accept") and has_form(mine, f"/assignments/{a.id}/return")
    assert not has_form(mine, f"/assignments/{a.id}/approve") and not has_form(mine, f"/assignments/{a.id}/cancel")
    assert not has_form(mine, f"/assignments/{a.id}/feedback")  # not accepted yet
    coordinator = browser(app, world.coordinator).get(f"/assignments/{a.id}").text
    assert has_form(coordinator, f"/assignments/{a.id}/cancel")
    assert not has_form(coordinator, f"/assignments/{a.id}/accept")
    bystander = browser(app, world.liaison("TYJ")).get(f"/assignments/{a.id}").text
    assert "当前没有您可执行的操作" in bystander and 'method="post" action="/assignments/' not in bystander
    leader = browser(app, world.leader).get(f"/assignments/{a.id}").text
    assert 'method="post" action="/assignments/' not in leader


def test_accept_feedback_approve_through_the_pages(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                   kicks: list[int], session) -> None:
    immediate(session, world.coordinator)  # he asked for each email at once: submitting queues mail
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    r = submit(liaison, path, f"{path}/accept")
    assert r.status_code == 303 and r.headers["location"] == path
    page = liaison.get(path).text
    assert "已签收" in page and "办理中" in page
    assert state_of(app, a.id)[0] == AssignmentState.ACCEPTED
    r = submit(liaison, path, f"{path}/feedback", narrative="现场检查 3 家门店，责令整改。",
               enterprises_inspected="3", rectification_orders="2", fines_yuan="5,000", losses_recovered_yuan="")
    assert r.status_code == 303
    page = liaison.get(path).text
    assert "反馈已提交" in page and "现场检查 3 家门店" in page and "5,000.00" in page
    coordinator = browser(app, world.coordinator)
    r = submit(coordinator, path, f"{path}/approve", comment="同意办结")
    assert r.status_code == 303
    page = coordinator.get(path).text
    assert "已办结" in page and "同意办结" in page
    assert state_of(app, a.id)[0] == AssignmentState.DONE
    # Only the change that queued mail (feedback → the coordinator, immediate) kicks the relay;
    # the liaisons get theirs in the next digest, so accept and approve queue nothing.
    assert len(kicks) == 1


def test_stale_form_says_so_and_changes_nothing(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison, head = browser(app, world.liaison("XFXH")), browser(app, world.head("XFXH"))
    old_form = form_fields(liaison.get(path).text, f"{path}/return")  # liaison reads the page …
    assert submit(head, path, f"{path}/accept").status_code == 303  # … the head accepts meanwhile
    r = liaison.post(f"{path}/return", data={**old_form, "reason": "not_our_jurisdiction", "note": "非本部门"})
    assert r.status_code == 412
    assert STALE in r.text
    assert state_of(app, a.id) == (AssignmentState.ACCEPTED, 2)


def test_csrf_token_is_required_and_bound_to_the_session(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    fields = form_fields(liaison.get(path).text, f"{path}/accept")
    assert liaison.post(f"{path}/accept", data={"version": fields["version"]}).status_code == 403
    # The head's own token does not work with the liaison's session, nor the other way round.
    other = form_fields(browser(app, world.head("XFXH")).get(path).text, f"{path}/accept")
    r = liaison.post(f"{path}/accept", data={**fields, "csrf_token": other["csrf_token"]})
    assert r.status_code == 403 and "请求来源无法验证" in r.text
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)


def test_refused_input_is_explained_and_kept(app: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    path = f"/assignments/{a.id}"
    liaison = browser(app, world.liaison("XFXH"))
    stale_page = liaison.get(path).text
    r = submit(liaison, path, f"{path}/return", reason="other", note="")
    assert r.status_code == 422
    assert "退回原因为“其他”时须填写说明" in r.text
    assert "<option value=\"other\" selected>" in r.text  # the user's choice is kept
    assert state_of(app, a.id) == (AssignmentState.DISPATCHED, 1)
    # The coordinator cancels; a page still showing "accept" then gets a 409 naming the state.
    assert submit(browser(app, world.coordinator), path, f"{path}/cancel", reason="重复派发").status_code == 303
    fields = form_fields(stale_page, f"{path}/accept")
    r = liaison.post(f"{path}/accept", data={**fields, "version": "2"})
    assert r.status_code == 409 and "已撤销" in r.text
    assert state_of(app, a.id)[0] == AssignmentState.CANCELLED


def test_extension_requested_by_liaison_approved_by_head(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                         session: Session, clock) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH", days=5)
    a = assignments.accept(session, clock, world.liaison("XFXH"), a.id, a.version)
    session.commit()
    path = f"/assignments/{a.id}"
    r = submit(browser(app, world.liaison("XFXH")), path, f"{path}/extension", extra_working_days="3",
               reason="等待检测报告")
    assert r.status_code == 303
    head = browser(app, world.head("XFXH"))
    assert "延期待审批" in head.get("/queue").text
    page = head.get(path).text
    m = re.search(rf'action="({re.escape(path)}/extensions/\d+/decide)"', page)
    assert m
    r = head.post(m.group(1), data={**form_fields(page, m.group(1)), "decision": "approve", "comment": "同意"})
    assert r.status_code == 303
    page = head.get(path).text
    # 2026-12-08 plus 3 working days is Fri 2026-12-11, 17:30 local.
    assert "已批准延期" in page and "2026-12-11（周五）17:30" in page and "已延期" in page


def test_twice_returned_needs_a_decision_note_to_redispatch(app: Any, world: World, make_case, dispatch,  # type: ignore[no-untyped-def]
                                                            session: Session, clock) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    liaison = world.liaison("XFXH")
    for _ in range(2):
        a = assignments.return_assignment(session, clock, liaison, a.id, a.version,
                                          ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION))
        session.commit()
        if a.needs_decision:
            break
        a = assignments.redispatch(session, clock, world.coordinator, a.id, a.version, RedispatchIn())  # type: ignore[arg-type]
        session.commit()
    coordinator = browser(app, world.coordinator)
    decisions = coordinator.get("/queue").text.split("两次退回，待审定")[1].split("</section>")[0]
    assert f"/assignments/{a.id}\"" in decisions
    path = f"/assignments/{a.id}"
    r = submit(coordinator, path, f"{path}/redispatch", decision_note="")
    assert r.status_code == 422 and "审定意见" in r.text
    r = submit(coordinator, path, f"{path}/redispatch", decision_note="经审定，属消协职责",
               department_id=str(world.dept("XFXH").id))
    assert r.status_code == 303
    assert state_of(app, a.id)[0] == AssignmentState.DISPATCHED


def test_coordinator_dispatches_comments_and_cannot_close_with_open_work(app: Any, world: World,  # type: ignore[no-untyped-def]
                                                                        make_case, kicks: list[int],
                                                                        session) -> None:
    immediate(session, world.liaison("TYJ"))
    case = make_case()
    path = f"/cases/{case.id}"
    coordinator = browser(app, world.coordinator)
    r = submit(coordinator, path, f"{path}/dispatch", lead_department_id=str(world.dept("TYJ").id),
               working_days="5", instructions="核查体育经营许可")
    assert r.status_code == 303 and kicks == [1]
    page = coordinator.get(path).text
    assert "任务已派发" in page and "体育局" in page
    r = submit(coordinator, path, f"{path}/close", note="")
    assert r.status_code == 409 and "仍有 1 项任务未办结" in r.text
    r = submit(browser(app, world.liaison("TYJ")), path, f"{path}/comment", text="已安排人员核查")
    assert r.status_code == 303
    assert "已安排人员核查" in coordinator.get(path).text


def test_english_user_gets_english_pages(app: Any, world: World, make_case, dispatch, session: Session) -> None:  # type: ignore[no-untyped-def]
    liaison = session.get(User, world.liaison("XFXH").id)
    assert liaison is not None
    liaison.language = "en"
    session.commit()
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    page = browser(app, liaison).get(f"/assignments/{a.id}").text
    assert 'lang="en"' in page and ">Accept<" in page and "Feedback due" in page
    assert "Tue 2026-12-08 17:30" in page
    r = browser(app, liaison).get("/queue")
    assert "To accept" in r.text and "Overdue" in r.text


def test_expired_session_goes_back_to_login(app: Any, world: World, clock) -> None:  # type: ignore[no-untyped-def]
    client = browser(app, world.liaison("XFXH"))
    clock.advance(timedelta(hours=app.state.settings.token_ttl_hours + 1))
    r = client.get("/cases?status=open")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/cases%3Fstatus%3Dopen"


def test_a_form_posted_after_the_session_expired_comes_back_to_its_page(  # type: ignore[no-untyped-def]
        app: Any, world: World, clock, make_case, dispatch) -> None:
    """Not to the POST address, where a GET after signing in would be 405."""
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    client = browser(app, world.liaison("XFXH"))
    fields = form_fields(client.get(f"/assignments/{a.id}").text, f"/assignments/{a.id}/accept")
    clock.advance(timedelta(hours=app.state.settings.token_ttl_hours + 1))
    r = client.post(f"/assignments/{a.id}/accept", data=fields,
                    headers={"Referer": f"http://testserver/assignments/{a.id}"})
    assert r.status_code == 303 and r.headers["location"] == f"/login?next=/assignments/{a.id}"
    r = client.post(f"/assignments/{a.id}/accept", data=fields, headers={"Referer": "https://evil.example/x"})
    assert r.headers["location"] == "/login?next=/queue"


def test_no_page_opens_a_second_session(app: Any) -> None:
    """Every page has its session from PageDep (the form guard's); a route that also asked for SessionDep
    would hold two connections, and on SQLite its two transactions lock each other ("database is locked")."""
    from fastapi.dependencies.models import Dependant
    from fastapi.dependencies.utils import get_dependant
    from fastapi.routing import APIRoute

    from services.api import pages
    from services.api.deps import get_session

    def calls(d: Dependant) -> set[object]:
        return {d.call} | {c for sub in d.dependencies for c in calls(sub)}

    def routes(router: Any) -> Iterator[tuple[str, Dependant]]:
        for dep in router.dependencies:  # the router's own (the form guard, the admin check)
            yield "router dependency", get_dependant(path="", call=dep.dependency)
        for r in router.routes:
            if isinstance(r, APIRoute):
                yield r.path, r.dependant
            inner = getattr(r, "original_router", None) or (r if hasattr(r, "dependencies") else None)
            if inner is not None and inner is not router and not isinstance(r, APIRoute):
                yield from routes(inner)

    found = list(routes(pages.router)) + list(routes(pages.admin.router))
    assert len([p for p, _ in found if p.startswith("/")]) > 50
    assert [p for p, d in found if get_session in calls(d)] == []
