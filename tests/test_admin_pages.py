"""系统管理 (/admin): each admin action through the pages, checked in what the API then shows.

Runs on SQLite and PostgreSQL.  Only admins see /admin; anyone else gets the
pages' 404 for every address and every post, forged or not, and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.api.pages.admin import audit as audit_pages
from shared.assignments.models import Assignment
from shared.calendar.notice import format_day_list, parse_day_list
from shared.departments.models import Department
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.service import enqueue
from shared.users import service as users
from shared.users.models import Role, User
from tests.conftest import Api
from tests.factories import PASSWORD, World
from tests.relay_kicks import counting_kicks
from tests.test_pages import browser, form_fields, submit

NEW_PASSWORD = "新的密码-2026-12"


@pytest.fixture(autouse=True)
def kicks(app: Any) -> Iterator[list[int]]:
    """Count relay kicks instead of talking to a broker (delivery has its own tests)."""
    with counting_kicks() as calls:
        yield calls


def row(app: Any, model: Any, record_id: int) -> Any:
    with Session(app.state.engine, expire_on_commit=False) as s:
        found = s.get(model, record_id)
        assert found is not None
        return found


def field_error(page: str, form: str, name: str) -> str:
    """The reason shown beside FORM's field NAME ("" when there is none)."""
    m = re.search(rf'<p class="field-error" id="err-{form}-{name}">(.*?)</p>', page, re.S)
    return m.group(1) if m else ""


def admin_urls(world: World, case_id: int | None = None) -> list[str]:
    liaison = world.liaison("XFXH").id
    return ["/admin", "/admin/users", "/admin/users/new", f"/admin/users/{liaison}", "/admin/departments",
            f"/admin/departments/{world.dept('XFXH').id}", "/admin/calendar", "/admin/calendar/2027",
            "/admin/outbox", "/admin/outbox?state=failed", "/admin/audit", "/admin/no-such-page"]


def admin_posts(world: World, message_id: int) -> dict[str, dict[str, str]]:
    """Every admin action, with the fields that would make it act."""
    liaison = world.liaison("XFXH").id
    return {
        "/admin/users": {"username": "forged", "name": "冒名", "email": "forged@gov.example",
                         "department_id": str(world.dept("GAJ").id), "role": "admin",
                         "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        f"/admin/users/{liaison}": {"version": "1", "role": "admin"},
        f"/admin/users/{liaison}/password": {"version": "1", "password": NEW_PASSWORD,
                                             "password_confirm": NEW_PASSWORD},
        f"/admin/users/{liaison}/active": {"version": "1", "active": "0"},
        "/admin/departments": {"code": "FORGED", "name": "冒名部门", "kind": "other"},
        f"/admin/departments/{world.dept('XFXH').id}": {"version": "1", "name": "冒名", "kind": "other"},
        "/admin/calendar/2027": {"holidays": "2027-01-01 元旦"},
        f"/admin/outbox/{message_id}/retry": {"back": "/admin/outbox"},
        f"/admin/outbox/{message_id}/discard": {"back": "/admin/outbox"},
    }


def put_mail(app: Any, state: OutboxState, n: int = 1, to: str = "liaison{i}@gov.example") -> list[int]:
    """Outbox rows as the relay leaves them: written by a service, then in STATE."""
    clock = app.state.clock
    ids: list[int] = []
    with Session(app.state.engine) as s:
        for i in range(n):
            key = f"reminder:test:{state.value}:{i}"
            assert enqueue(s, key=key, kind="reminder.digest", to_address=to.format(i=i),
                           subject="【共治】待办事项提醒", body_text=f"第 {i} 条待办",
                           body_html=f"<p>第 {i} 条待办</p>", now=clock.now())
            msg = s.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == key)).one()  # type: ignore[arg-type]
            msg.state = state
            msg.attempts = 1
            msg.last_error = "550 5.1.1 no such user" if state == OutboxState.FAILED else "worker stopped while sending"
            assert msg.id is not None
            ids.append(msg.id)
        s.commit()
    return ids


def snapshot(app: Any) -> tuple[Any, ...]:
    """What the admin pages could change, for "nothing changed" checks."""
    with Session(app.state.engine) as s:
        people = tuple((u.id, u.role, u.active, u.department_id, u.password_hash, u.version)
                       for u in s.exec(select(User).order_by(User.id)))  # type: ignore[arg-type]
        departments = tuple((d.id, d.name, d.active, d.signoff_required, d.version)
                            for d in s.exec(select(Department).order_by(Department.id)))  # type: ignore[arg-type]
        mail = tuple((m.id, m.state) for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]
    return people, departments, mail


# ------------------------------------------------------------------ who sees /admin

def test_the_nav_shows_administration_to_admins_only(app: Any, world: World) -> None:
    assert '<a href="/admin"' in browser(app, world.admin).get("/queue").text
    assert "系统管理" in browser(app, world.admin).get("/queue").text
    for user in (world.liaison("XFXH"), world.head("XFXH"), world.coordinator, world.leader):
        assert '<a href="/admin"' not in browser(app, user).get("/queue").text


def test_a_stranger_is_sent_to_sign_in_and_comes_back(app: Any, world: World) -> None:
    r = browser(app).get("/admin/users")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/admin/users"


def test_every_admin_page_and_post_is_404_for_everyone_else(app: Any, world: World) -> None:
    mail = put_mail(app, OutboxState.UNKNOWN)[0]
    before = snapshot(app)
    admin_client = browser(app, world.admin)
    for user in (world.liaison("XFXH"), world.head("XFXH"), world.coordinator, world.leader):
        client = browser(app, user)
        for url in admin_urls(world):
            r = client.get(url)
            assert r.status_code == 404 and "未找到该记录" in r.text, (user.username, url)
            assert "用户管理" not in r.text
        own_token = form_fields(client.get("/settings").text, "/settings/preferences")["csrf_token"]
        for url, fields in admin_posts(world, mail).items():
            admin_token = form_fields(admin_client.get("/admin/departments").text, "/admin/departments")["csrf_token"]
            for token in (None, own_token, admin_token):  # none, his own, and an admin's (another user's)
                data = fields if token is None else {**fields, "csrf_token": token}
                r = client.post(url, data=data)
                assert r.status_code == 404, (user.username, url, token and token[:8])
        # His own token was not used up by the refused posts: the settings form still works.
        r = client.post("/settings/preferences", data={**form_fields(client.get("/settings").text,
                                                                      "/settings/preferences")})
        assert r.status_code == 303
    assert snapshot(app) == before


def test_forged_admin_posts_change_nothing(app: Any, world: World) -> None:
    """An admin's own session, but a post without its token or with someone else's: refused (403)."""
    mail = put_mail(app, OutboxState.UNKNOWN)[0]
    before = snapshot(app)
    admin_client = browser(app, world.admin)
    liaison_token = form_fields(browser(app, world.liaison("XFXH")).get("/settings").text,
                                "/settings/preferences")["csrf_token"]
    for url, fields in admin_posts(world, mail).items():
        assert admin_client.post(url, data=fields).status_code == 403, url
        assert admin_client.post(url, data={**fields, "csrf_token": liaison_token}).status_code == 403, url
    assert snapshot(app) == before
    signed_out = browser(app)  # no session at all: sent to sign in, nothing done
    assert signed_out.post("/admin/users", data=admin_posts(world, mail)["/admin/users"]).status_code == 303
    assert snapshot(app) == before


# ------------------------------------------------------------------ users

def test_creating_a_user_on_the_page_shows_in_the_api_and_they_can_sign_in(app: Any, world: World,
                                                                            api: Api) -> None:
    client = browser(app, world.admin)
    page = client.get("/admin/users/new")
    assert page.status_code == 200 and "新建用户" in page.text and "初始密码" in page.text
    r = submit(client, "/admin/users/new", "/admin/users", username="liaison_gaj2", name="钱联络",
               email="qian@gov.example", department_id=str(world.dept("GAJ").id), role="liaison",
               language="zh-CN", password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    assert r.status_code == 303, r.text
    assert re.fullmatch(r"/admin/users/\d+", r.headers["location"])
    assert "已创建用户“钱联络”" in client.get(r.headers["location"]).text
    listed = {u["username"]: u for u in api.as_user(world.admin).get("/api/v1/users").json()}
    assert listed["liaison_gaj2"]["department_id"] == world.dept("GAJ").id
    assert listed["liaison_gaj2"]["role"] == "liaison" and listed["liaison_gaj2"]["active"] is True
    with Session(app.state.engine) as s:
        assert users.authenticate(s, app.state.clock, app.state.settings, "liaison_gaj2", NEW_PASSWORD)


def test_a_refused_new_user_shows_the_reason_beside_each_field_and_keeps_what_was_typed(
        app: Any, world: World) -> None:
    client = browser(app, world.admin)
    before = snapshot(app)
    r = submit(client, "/admin/users/new", "/admin/users", username="liaison_xfxh", name="重名",
               email="chong@gov.example", department_id=str(world.dept("GAJ").id), role="liaison",
               password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    assert r.status_code == 422
    assert field_error(r.text, "create", "username") == "用户名已存在"
    assert 'value="chong@gov.example"' in r.text and NEW_PASSWORD not in r.text  # a password is never echoed
    assert 'aria-invalid="true" aria-describedby="err-create-username' in r.text
    r = submit(client, "/admin/users/new", "/admin/users", username="x y", name="", email="not-an-email",
               department_id=str(world.dept("GAJ").id), role="liaison", password="short",
               password_confirm="short")
    assert r.status_code == 422
    assert field_error(r.text, "create", "username") and field_error(r.text, "create", "email")
    assert field_error(r.text, "create", "name") == "必填"
    assert "至少 8" in field_error(r.text, "create", "password")
    r = submit(client, "/admin/users/new", "/admin/users", username="ok_name", name="某人", email="a@@gov",
               department_id=str(world.dept("GAJ").id), role="liaison", password=NEW_PASSWORD,
               password_confirm="something-else")
    # Every reason at once, not one per attempt.
    assert field_error(r.text, "create", "password_confirm") == "两次输入的新密码不一致"
    assert field_error(r.text, "create", "email")
    assert snapshot(app) == before


def test_the_user_list_filters_by_department_role_and_state(app: Any, world: World, api: Api) -> None:
    client = browser(app, world.admin)
    gaj = world.dept("GAJ").id
    page = client.get(f"/admin/users?department_id={gaj}").text
    assert "liaison_gaj" in page and "head_gaj" in page and "liaison_xfxh" not in page
    page = client.get("/admin/users?role=head").text
    assert "head_gaj" in page and "head_xfxh" in page and "liaison_gaj" not in page and ">coordinator<" not in page
    submit(client, f"/admin/users/{world.liaison('GAJ').id}", f"/admin/users/{world.liaison('GAJ').id}/active",
           active="0")
    page = client.get("/admin/users?active=0").text
    assert "liaison_gaj" in page and "liaison_xfxh" not in page
    assert "liaison_gaj" not in client.get(f"/admin/users?active=1&department_id={gaj}").text
    api_rows = api.as_user(world.admin).get("/api/v1/users", params={"active": "false"}).json()
    assert [u["username"] for u in api_rows] == ["liaison_gaj"]


def test_paging_through_users(app: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.api.pages.admin import users as user_pages

    monkeypatch.setattr(user_pages, "PAGE_SIZE", 5)
    client = browser(app, world.admin)
    seen: list[str] = []
    url: str | None = "/admin/users"
    while url:
        page = client.get(url).text
        seen += re.findall(r'<td class="mono[^"]*"[^>]*><a href="/admin/users/\d+">([^<]+)</a>', page)
        m = re.search(r'<a href="([^"]+)">下一页</a>', page)
        url = m.group(1).replace("&amp;", "&") if m else None
    with Session(app.state.engine) as s:
        assert seen == [u.username for u in s.exec(select(User).order_by(User.id))]  # type: ignore[arg-type]


def test_changing_role_and_department_on_the_page_shows_in_the_api(app: Any, world: World, api: Api) -> None:
    victim = world.liaison("XFXH")
    client = browser(app, world.admin)
    r = submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}", name=victim.name,
               email=victim.email, department_id=str(world.dept("GAJ").id), role="head")
    assert r.status_code == 303 and r.headers["location"] == f"/admin/users/{victim.id}"
    assert "信息已保存" in client.get(r.headers["location"]).text
    shown = {u["id"]: u for u in api.as_user(world.admin).get("/api/v1/users").json()}[victim.id]
    assert (shown["role"], shown["department_id"]) == ("head", world.dept("GAJ").id)
    assert api.as_user(victim).get("/api/v1/me").json()["role"] == "head"  # at his very next request


def test_a_stale_user_form_says_so_and_changes_nothing(app: Any, world: World) -> None:
    victim = world.liaison("XFXH")
    client = browser(app, world.admin)
    old = form_fields(client.get(f"/admin/users/{victim.id}").text, f"/admin/users/{victim.id}")
    assert submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}/active",
                  active="0").status_code == 303
    r = client.post(f"/admin/users/{victim.id}", data={**old, "name": victim.name, "email": victim.email,
                                                       "department_id": str(victim.department_id), "role": "head"})
    assert r.status_code == 412 and "记录已被他人修改" in r.text
    assert row(app, User, victim.id).role == Role.LIAISON


def test_deactivating_ends_the_users_sessions_and_reactivating_lets_him_in_again(
        app: Any, world: World, api: Api) -> None:
    victim = world.liaison("XFXH")
    his_browser, his_api = browser(app, victim), api.as_user(victim)
    assert his_browser.get("/queue").status_code == 200 and his_api.get("/api/v1/me").status_code == 200
    client = browser(app, world.admin)
    r = submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}/active", active="0")
    assert r.status_code == 303
    assert "已停用“李联络”的账号" in client.get(r.headers["location"]).text
    assert his_browser.get("/queue").status_code == 303 and his_api.get("/api/v1/me").status_code == 401
    assert api.as_user(world.admin).get("/api/v1/users", params={"active": "false"}).json()[0]["id"] == victim.id
    r = submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}/active", active="1")
    assert r.status_code == 303 and "已启用" in client.get(r.headers["location"]).text
    login = browser(app)
    fields = form_fields(login.get("/login").text, "/login")
    assert login.post("/login", data={**fields, "username": victim.username,
                                      "password": PASSWORD}).status_code == 303


def test_resetting_a_password_ends_every_session_of_that_user(app: Any, world: World, api: Api) -> None:
    victim = world.head("XFXH")
    browser_one, browser_two, his_api = browser(app, victim), browser(app, victim), api.as_user(victim)
    bystander = browser(app, world.liaison("XFXH"))
    client = browser(app, world.admin)
    page = client.get(f"/admin/users/{victim.id}").text
    assert "重置密码" in page and "所有设备上的登录立即失效" in page
    mismatch = submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}/password",
                      password=NEW_PASSWORD, password_confirm="another-one")
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "password", "password_confirm") == "两次输入的新密码不一致"
    assert browser_one.get("/queue").status_code == 200  # nothing happened yet
    r = submit(client, f"/admin/users/{victim.id}", f"/admin/users/{victim.id}/password",
               password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    assert r.status_code == 303
    assert "已重置“李主任”的密码" in client.get(r.headers["location"]).text
    for session in (browser_one, browser_two):
        assert session.get("/queue").status_code == 303
    assert his_api.get("/api/v1/me").status_code == 401
    assert bystander.get("/queue").status_code == 200 and client.get("/admin").status_code == 200
    with Session(app.state.engine) as s:
        assert users.authenticate(s, app.state.clock, app.state.settings, victim.username, NEW_PASSWORD)


def test_an_admin_cannot_lock_himself_out(app: Any, world: World) -> None:
    me = world.admin
    client = browser(app, world.admin)
    page = client.get(f"/admin/users/{me.id}").text
    assert f'action="/admin/users/{me.id}/active"' not in page and "不能调整本人的角色" in page
    # Posted anyway (a token from the page's own form): the use case refuses it.
    fields = form_fields(page, f"/admin/users/{me.id}")
    r = client.post(f"/admin/users/{me.id}/active", data={**fields, "active": "0"})
    assert r.status_code == 422 and "不能停用本人账号" in r.text
    fields = form_fields(client.get(f"/admin/users/{me.id}").text, f"/admin/users/{me.id}")
    r = client.post(f"/admin/users/{me.id}", data={**fields, "name": me.name, "email": me.email,
                                                  "department_id": str(me.department_id), "role": "liaison"})
    assert r.status_code == 422 and "不能停用本人账号或取消本人的系统管理员角色" in r.text
    assert row(app, User, me.id).role == Role.ADMIN and row(app, User, me.id).active


def test_the_pages_speak_english_to_an_english_admin(app: Any, world: World, session: Session) -> None:
    admin_row = session.get(User, world.admin.id)
    assert admin_row is not None
    admin_row.language = "en"
    session.commit()
    client = browser(app, world.admin)
    assert "Administration" in client.get("/queue").text
    r = submit(client, "/admin/users/new", "/admin/users", username="liaison_xfxh", name="Someone",
               email="s@gov.example", department_id=str(world.dept("GAJ").id), role="liaison",
               password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    assert r.status_code == 422 and "please correct the marked fields" in r.text
    assert field_error(r.text, "create", "username") and "用户名已存在" not in r.text


# ------------------------------------------------------------------ departments

def test_departments_created_and_edited_on_the_page_show_in_the_api(app: Any, world: World, api: Api) -> None:
    client = browser(app, world.admin)
    page = client.get("/admin/departments").text
    assert "市场监督管理局" in page and "负责人审签" in page
    r = submit(client, "/admin/departments", "/admin/departments", code="ZJJ", name="市住房和城乡建设局",
               kind="housing", email="zjj@gov.example", signoff_required="1")
    assert r.status_code == 303 and r.headers["location"] == "/admin/departments"
    assert "已新增部门“市住房和城乡建设局”" in client.get("/admin/departments").text
    listed = {d["code"]: d for d in api.as_user(world.admin).get("/api/v1/departments").json()}
    assert listed["ZJJ"]["signoff_required"] is True and listed["ZJJ"]["kind"] == "housing"
    assert listed["ZJJ"]["active"] is True and listed["XFXH"]["signoff_required"] is False

    xfxh = world.dept("XFXH").id
    page = client.get(f"/admin/departments/{xfxh}").text
    assert 'name="active" type="checkbox" value="1" checked' in page
    # Sign-off on, the email cleared, taken out of use (the active box left unticked).
    r = submit(client, f"/admin/departments/{xfxh}", f"/admin/departments/{xfxh}", name="市消费者权益保护委员会",
               kind="consumer_association", email="", signoff_required="1")
    assert r.status_code == 303
    shown = {d["code"]: d for d in api.as_user(world.admin).get("/api/v1/departments").json()}["XFXH"]
    assert (shown["name"], shown["signoff_required"], shown["active"], shown["email"]) == (
        "市消费者权益保护委员会", True, False, None)
    # An inactive department is offered no more for new users.
    new_user_form = client.get("/admin/users/new").text
    assert f'<option value="{xfxh}"' not in new_user_form


def test_a_refused_department_shows_the_reason_beside_the_field(app: Any, world: World) -> None:
    client = browser(app, world.admin)
    before = snapshot(app)
    r = submit(client, "/admin/departments", "/admin/departments", code="XFXH", name="重复", kind="other")
    assert r.status_code == 422 and field_error(r.text, "create", "code") == "编码已存在"
    assert 'value="重复"' in r.text
    r = submit(client, "/admin/departments", "/admin/departments", code="有 空格", name="", kind="nonsense")
    assert r.status_code == 422
    assert field_error(r.text, "create", "code") and field_error(r.text, "create", "name") == "必填"
    assert field_error(r.text, "create", "kind")
    xfxh = world.dept("XFXH").id
    r = submit(client, f"/admin/departments/{xfxh}", f"/admin/departments/{xfxh}", name="  ", kind="other",
               active="1")
    assert r.status_code == 422 and field_error(r.text, "edit", "name")
    assert snapshot(app) == before


# ------------------------------------------------------------------ calendar

def _provisional(app: Any, dispatch: Any, make_case: Any) -> Assignment:
    case = make_case(lead="SCJG")
    a = dispatch(case, "XFXH", days=25)  # from 1 December 2026, ends in January 2027
    assert a.due_provisional
    return a


def test_the_calendar_page_shows_each_years_state_and_warns_in_december(app: Any, world: World) -> None:
    client = browser(app, world.admin)
    page = client.get("/admin/calendar").text
    assert "2027 年的官方节假日安排尚未载入" in page  # 1 December 2026: next year is missing
    years = dict(re.findall(r'<a href="/admin/calendar/(\d{4})">.*?</a>.*?<span class="badge year-(\w+)"', page, re.S))
    assert years == {"2025": "package", "2026": "package", "2027": "provisional", "2028": "provisional"}
    assert "2027 年的官方节假日安排尚未载入" in client.get("/admin").text
    year = client.get("/admin/calendar/2027").text
    assert "尚无官方节假日安排" in year and "春节" in year
    # A provisional year is not offered as fact.
    assert re.search(r"<textarea id=\"load-holidays\"[^>]*></textarea>", year)
    prefilled = client.get("/admin/calendar/2026").text
    assert "2026-02-16 至 2026-02-23 春节" in prefilled  # the package's weekday holidays, ready to correct
    assert client.get("/admin/calendar?year=abc").status_code == 200
    assert field_error(client.get("/admin/calendar?year=abc").text, "year", "year")
    assert client.get("/admin/calendar?year=2030").headers["location"] == "/admin/calendar/2030"
    assert client.get("/admin/calendar/99999").status_code == 404


def test_loading_a_year_on_the_page_makes_it_official_and_recomputes_deadlines(
        app: Any, world: World, api: Api, dispatch: Any, make_case: Any) -> None:
    a = _provisional(app, dispatch, make_case)
    client = browser(app, world.admin)
    r = submit(client, "/admin/calendar/2027", "/admin/calendar/2027",
               holidays="2027-01-01 元旦\n2027-02-05 至 2027-02-13 春节\n2027年4月5日 清明节",
               workdays="2027-02-20 春节调休")
    assert r.status_code == 303 and r.headers["location"] == "/admin/calendar/2027"
    after = client.get("/admin/calendar/2027").text
    assert "已载入 2027 年官方节假日安排：工作日放假 8 天，调休上班 1 天" in after
    assert "1 项已重新计算" in after and "官方安排（已载入）" in after
    body = api.as_user(world.liaison("XFXH")).get("/api/v1/calendar", params={"year": 2027}).json()
    assert body["official"] is True and body["source"] == "admin"
    days = {d["date"]: d for d in body["days"]}
    assert days["2027-02-20"] == {"date": "2027-02-20", "is_working": True, "name": "春节调休"}
    assert days["2027-04-05"]["name"] == "清明节"
    assert not row(app, Assignment, a.id).due_provisional
    assert api.as_user(world.admin).get("/api/v1/calendar/status").json()["warnings"] == []


@pytest.mark.parametrize(("holidays", "workdays", "field", "reason"), [
    ("2027-01-01 元旦\n2027-13-01 春节", "", "holidays", "第 2 行“2027-13-01 春节”无法识别为日期"),
    ("2027-01-01\n2026-12-31 跨年", "", "holidays", "第 2 行：日期 2026-12-31 不在 2027 年内"),
    ("2027-02-12 至 2027-02-05 春节", "", "holidays", "结束日期不能早于开始日期"),
    ("2027-02-05 至 2027-02-13 春节", "2027-02-20\n\n2027-02-08 冲突", "workdays",
     "第 3 行：日期 2027-02-08 不能既是节假日又是调休工作日"),
    ("", "2027-02-20", "holidays", "必填"),
    ("2027-02-14 2027-02-20", "", "holidays", "第 1 行“2027-02-14 2027-02-20”无法识别为日期"),
])
def test_invalid_calendar_input_shows_the_field_error_and_changes_nothing(
        app: Any, world: World, api: Api, dispatch: Any, make_case: Any,
        holidays: str, workdays: str, field: str, reason: str) -> None:
    a = _provisional(app, dispatch, make_case)
    client = browser(app, world.admin)
    r = submit(client, "/admin/calendar/2027", "/admin/calendar/2027", holidays=holidays, workdays=workdays)
    assert r.status_code == 422
    assert reason in field_error(r.text, "load", field)
    assert "请按标出的提示修改" in r.text
    assert f">{holidays}</textarea>" in r.text  # what was typed is still there to correct
    body = api.as_user(world.admin).get("/api/v1/calendar", params={"year": 2027}).json()
    assert body["provisional"] is True and body["source"] is None
    assert row(app, Assignment, a.id).due_provisional


def test_a_loaded_schedule_is_written_back_as_the_notice_reads() -> None:
    text = "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节，2027年2月20日 春节调休\n2027/4/5 清明节"
    days = parse_day_list(text, "holidays")
    assert [d.line for d in days if d.name == "春节调休"] == [2]
    stored = [(d.day, d.name) for d in days if d.day.weekday() < 5 or d.name == "春节调休"]
    written = format_day_list(stored)
    assert written == "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节\n2027-02-20 春节调休\n2027-04-05 清明节"
    assert [(d.day, d.name) for d in parse_day_list(written, "holidays")
            if d.day.weekday() < 5 or d.name == "春节调休"] == stored


# ------------------------------------------------------------------ outbox

def test_undelivered_mail_is_listed_and_resent_or_discarded_on_the_page(
        app: Any, world: World, api: Api, kicks: list[int]) -> None:
    unknown = put_mail(app, OutboxState.UNKNOWN, 2)
    failed = put_mail(app, OutboxState.FAILED, 1, to="wrong{i}@gov.example")
    sent = put_mail(app, OutboxState.SENT, 1, to="sent{i}@gov.example")
    client = browser(app, world.admin)
    page = client.get("/admin/outbox").text
    assert "状态不明" in page and "发送失败" in page and "550 5.1.1 no such user" in page
    for mid in unknown + failed:
        assert f'action="/admin/outbox/{mid}/retry"' in page and f'action="/admin/outbox/{mid}/discard"' in page
    assert f"/admin/outbox/{sent[0]}" not in page  # sent mail waits for nobody
    assert "邮件发送" in client.get("/admin").text and "状态不明 2 封，发送失败 1 封" in client.get("/admin").text

    r = submit(client, "/admin/outbox", f"/admin/outbox/{unknown[0]}/retry")
    assert r.status_code == 303 and r.headers["location"] == "/admin/outbox"
    assert f"邮件 #{unknown[0]} 已重新排队发送" in client.get("/admin/outbox").text
    assert kicks  # the relay was woken after the commit
    r = submit(client, "/admin/outbox?state=failed", f"/admin/outbox/{failed[0]}/discard")
    assert r.status_code == 303 and r.headers["location"] == "/admin/outbox?state=failed"
    admin_api = api.as_user(world.admin)
    assert admin_api.get(f"/api/v1/admin/outbox/{unknown[0]}").json()["state"] == "pending"
    assert admin_api.get(f"/api/v1/admin/outbox/{failed[0]}").json()["state"] == "discarded"
    counts = admin_api.get("/api/v1/admin/outbox").json()["counts"]
    assert (counts["unknown"], counts["failed"], counts["pending"], counts["discarded"]) == (1, 0, 1, 1)

    detail = client.get(f"/admin/outbox/{unknown[1]}").text
    assert "第 1 条待办" in detail and "Message-ID" in detail
    # Someone else settled it meanwhile: a form read before says why it cannot act now.
    stale = form_fields(detail, f"/admin/outbox/{unknown[1]}/retry")
    assert submit(client, f"/admin/outbox/{unknown[1]}", f"/admin/outbox/{unknown[1]}/discard").status_code == 303
    r = client.post(f"/admin/outbox/{unknown[1]}/retry", data=stale)
    assert r.status_code == 409 and "该邮件当前为“已放弃”，不能重新发送" in r.text
    assert admin_api.get(f"/api/v1/admin/outbox/{unknown[1]}").json()["state"] == "discarded"


def test_the_outbox_back_link_never_leaves_the_outbox_pages(app: Any, world: World) -> None:
    mid = put_mail(app, OutboxState.UNKNOWN)[0]
    client = browser(app, world.admin)
    fields = form_fields(client.get("/admin/outbox").text, f"/admin/outbox/{mid}/retry")
    r = client.post(f"/admin/outbox/{mid}/retry", data={**fields, "back": "//evil.example/admin/outbox"})
    assert r.status_code == 303 and r.headers["location"] == f"/admin/outbox/{mid}"


# ------------------------------------------------------------------ audit log

def test_reads_of_personal_data_are_listed_and_filtered(app: Any, world: World, make_case: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = make_case(lead="SCJG"), make_case(lead="XFXH")
    coordinator, liaison = browser(app, world.coordinator), browser(app, world.liaison("XFXH"))
    assert coordinator.get(f"/cases/{first.id}").status_code == 200
    app.state.clock.advance(days=2)
    assert liaison.get(f"/cases/{second.id}").status_code == 200
    assert coordinator.get(f"/cases/{second.id}").status_code == 200

    client = browser(app, world.admin)
    page = client.get("/admin/audit").text
    assert page.count("查看投诉人完整信息：姓名、联系电话、身份证号、地址") == 3
    assert first.reference in page and second.reference in page and "王协调" in page and "李联络" in page
    assert "13812345678" not in page  # the log says what was read, never the data

    by_user = client.get("/admin/audit", params={"user": "liaison_xfxh"}).text
    assert by_user.count("<tr>") - 1 == 1 and second.reference in by_user
    by_case = client.get("/admin/audit", params={"case": first.reference.lower()}).text
    assert by_case.count("<tr>") - 1 == 1 and first.reference in by_case and "王协调" in by_case
    day_one = (app.state.clock.now() - timedelta(days=2)).astimezone(app.state.settings.tz).date().isoformat()
    only_first_day = client.get("/admin/audit", params={"since": day_one, "until": day_one}).text
    assert only_first_day.count("<tr>") - 1 == 1 and first.reference in only_first_day

    unknown = client.get("/admin/audit", params={"user": "nobody", "case": "GZ-1999-000001"}).text
    assert field_error(unknown, "filter", "user") == "没有登录名为“nobody”的用户"
    assert field_error(unknown, "filter", "case") == "没有编号为“GZ-1999-000001”的案件"

    monkeypatch.setattr(audit_pages, "PAGE_SIZE", 2)
    page_one = client.get("/admin/audit").text
    assert page_one.count("<tr>") - 1 == 2
    next_url = re.search(r'<a href="([^"]+)">下一页</a>', page_one)
    assert next_url
    page_two = client.get(next_url.group(1).replace("&amp;", "&")).text
    assert page_two.count("<tr>") - 1 == 1 and first.reference in page_two
    assert "分页位置" in client.get("/admin/audit", params={"cursor": "edited"}).text  # an edited cursor is said


def test_the_admin_stylesheet_loads_from_our_own_host(app: Any, world: World) -> None:
    page = browser(app, world.admin).get("/admin").text
    assert '<link rel="stylesheet" href="/static/admin.css">' in page
    r = TestClient(app).get("/static/admin.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css") and ".admin-nav" in r.text
