"""Every other list exports to Excel too: the inbox, the inspection month, and the admin lists.

Each export is the page's own list (the same query, scope and filters), with
headers in the reader's language, a frozen header row, local times, the case
export's cap with a note when cut, and no complainant data.  Tried as an
attacker would: a liaison gets from an export what he gets from the page —
nothing of another department's inbox, nothing of the admin lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from shared.cases import export as case_export
from shared.clock import FrozenClock
from shared.outbox.models import OutboxState
from shared.users.models import User
from tests.factories import World
from tests.relay_kicks import counting_kicks
from tests.test_admin_pages import put_mail
from tests.test_inbox import Desk
from tests.test_inspection_pages import scheduled
from tests.test_pages import browser

PHONE = "13812345678"  # every factory case's complainant


@pytest.fixture(autouse=True)
def kicks(app: Any) -> Iterator[list[int]]:
    with counting_kicks() as calls:
        yield calls


def sheet_of(r: Any) -> tuple[Any, list[list[Any]]]:
    """The first sheet of a download and its rows, after checking it is one."""
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == case_export.XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"].startswith('attachment; filename="')
    assert r.headers["cache-control"] == "no-store"
    sheet = load_workbook(BytesIO(r.content)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    return sheet, [list(row) for row in sheet.iter_rows(values_only=True)]


def in_english(session: Session, user: User) -> User:
    row = session.get(User, user.id)
    assert row is not None
    row.language = "en"
    session.commit()
    return row


ASSIGNMENT_HEADERS = ["任务", "案件编号", "标题", "承办部门", "承办人", "状态", "派发时间", "签收期限", "反馈期限",
                      "已逾期"]


# ------------------------------------------------------------------ inbox

def test_a_heads_inbox_exports_every_list_of_his_department_and_nothing_else(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    desk = Desk(session, clock, world, make_case, dispatch)
    head = browser(app, world.head("XFXH"))
    assert 'href="/inbox?format=xlsx" download' in head.get("/inbox").text
    sheet, rows = sheet_of(head.get("/inbox", params={"format": "xlsx"}))
    assert sheet.title == "待办事项"
    assert rows[0] == ["待办类别", *ASSIGNMENT_HEADERS]
    by_list = {(r[0], r[1]) for r in rows[1:]}
    assert by_list == {("待审批的延期申请", desk.extension), ("退回两次待审定", desk.twice),
                       ("本部门已逾期", desk.overdue), ("本部门已逾期", desk.foreign)}
    extension = next(r for r in rows[1:] if r[1] == desk.extension)
    assert extension[4] == "消费者协会" and extension[6] == "办理中"
    assert isinstance(extension[7], datetime)  # a real date-time, in Shanghai wall time
    assert PHONE not in str(rows)

    # Another department's head: the page shows him nothing, nor does the export.
    _sheet, theirs = sheet_of(browser(app, world.head("GAJ")).get("/inbox", params={"format": "xlsx"}))
    assert theirs == [rows[0]]
    _sheet, tyj = sheet_of(browser(app, world.head("TYJ")).get("/inbox", params={"format": "xlsx"}))
    assert [r[1] for r in tyj[1:]] == [desk.other_extension]


def test_a_coordinators_inbox_export_covers_only_the_cases_he_manages(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    desk = Desk(session, clock, world, make_case, dispatch)
    _sheet, rows = sheet_of(browser(app, world.coordinator).get("/inbox", params={"format": "xlsx"}))
    assert {(r[0], r[1]) for r in rows[1:]} == {("反馈待审核", desk.submitted), ("退回待处理", desk.twice),
                                                ("待回访", desk.approved), ("已逾期", desk.overdue)}
    assert desk.foreign not in [r[1] for r in rows[1:]]  # coordinator2's case


def test_a_liaison_has_no_inbox_to_export_and_gets_the_pages_answer(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
) -> None:
    Desk(session, clock, world, make_case, dispatch)
    for who in (world.liaison("XFXH"), world.liaison("GAJ"), world.leader, world.admin):
        client = browser(app, who)
        page, export = client.get("/inbox"), client.get("/inbox", params={"format": "xlsx"})
        assert page.status_code == export.status_code == 303
        assert export.headers["location"] == page.headers["location"] == "/queue"


def test_an_inbox_list_longer_than_the_cap_says_so(
    app: Any, session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = make_case(lead="XFXH")
    for _ in range(3):
        dispatch(case, "XFXH", days=1)
    session.commit()
    clock.advance(days=3)
    monkeypatch.setattr(case_export, "EXPORT_LIMIT", 2)
    _sheet, rows = sheet_of(browser(app, world.head("XFXH")).get("/inbox", params={"format": "xlsx"}))
    assert [r[0] for r in rows[1:3]] == ["本部门已逾期"] * 2
    assert rows[-1][0] == "“本部门已逾期”共 3 项，仅导出前 2 项。"


# ------------------------------------------------------------------ inspections

def test_the_inspection_month_exports_what_the_calendar_shows(app: Any, session: Session, world: World,
                                                              make_case: Any) -> None:
    inspection_id, case, coordinator = scheduled(app, world, make_case)
    page = coordinator.get("/inspections", params={"month": "2026-12"}).text
    assert 'href="/inspections?month=2026-12&amp;format=xlsx" download' in page
    sheet, rows = sheet_of(coordinator.get("/inspections", params={"month": "2026-12", "format": "xlsx"}))
    assert sheet.title == "联合检查"
    assert rows[0] == ["检查日期", "标题", "案件编号", "牵头部门", "参与部门", "检查地点", "检查对象", "状态"]
    assert rows[1] == [datetime(2026, 12, 10), "预付卡门店联合检查", case.reference, "市场监督管理局",
                       "市场监督管理局、公安局、体育局", "鼓楼区中山路88号", "某某健身管理有限公司、某某体育用品店",
                       "计划中"]
    assert len(rows) == 2 and PHONE not in str(rows)
    # Another month: not in it (the calendar's neighbouring days are not the month).
    _sheet, november = sheet_of(coordinator.get("/inspections", params={"month": "2026-11", "format": "xlsx"}))
    assert november == [rows[0]]
    # A department taking part sees it; one that cannot see the case does not.
    _sheet, police = sheet_of(browser(app, world.liaison("GAJ")).get(
        "/inspections", params={"month": "2026-12", "format": "xlsx"}))
    assert [r[2] for r in police[1:]] == [case.reference]
    _sheet, outsider = sheet_of(browser(app, world.liaison("XFXH")).get(
        "/inspections", params={"month": "2026-12", "format": "xlsx"}))
    assert outsider == [rows[0]]
    # In English, English headers and labels.
    english = in_english(session, world.liaison("GAJ"))
    _sheet, en = sheet_of(browser(app, english).get("/inspections", params={"month": "2026-12", "format": "xlsx"}))
    assert en[0] == ["Date", "Title", "Case", "Lead department", "Departments taking part", "Place",
                     "Enterprises to visit", "Status"]
    assert en[1][7] == "Planned"


# ------------------------------------------------------------------ admin lists

def _refused_like_the_page(app: Any, world: World, url: str, params: dict[str, str]) -> None:
    for who in (world.liaison("XFXH"), world.head("GAJ"), world.coordinator, world.leader):
        client = browser(app, who)
        page, export = client.get(url, params=params), client.get(url, params={**params, "format": "xlsx"})
        assert page.status_code == export.status_code == 404, who.username
        assert export.headers["content-type"].startswith("text/html")
    anonymous = browser(app, None).get(url, params={**params, "format": "xlsx"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_user_list_exports_under_its_filters(app: Any, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    client = browser(app, world.admin)
    gaj = str(world.dept("GAJ").id)
    page = client.get("/admin/users", params={"department_id": gaj}).text
    assert f'href="/admin/users?department_id={gaj}&amp;format=xlsx" download' in page
    sheet, rows = sheet_of(client.get("/admin/users", params={"department_id": gaj, "format": "xlsx"}))
    assert sheet.title == "用户管理"
    assert rows[0] == ["登录名", "姓名", "所在部门", "角色", "电子邮箱", "状态"]
    assert rows[1:] == [["liaison_gaj", "陈联络", "公安局", "联络员", "liaison_gaj@gov.example", "在用"],
                        ["head_gaj", "陈主任", "公安局", "部门负责人", "head_gaj@gov.example", "在用"]]
    _sheet, heads = sheet_of(client.get("/admin/users", params={"role": "head", "format": "xlsx"}))
    assert {r[3] for r in heads[1:]} == {"部门负责人"} and len(heads) - 1 == len(
        [u for u in world.users.values() if u.role.value == "head"])
    monkeypatch.setattr(case_export, "EXPORT_LIMIT", 2)
    _sheet, cut = sheet_of(client.get("/admin/users", params={"format": "xlsx"}))
    assert [r[0] for r in cut[1:3]] == ["coordinator", "coordinator2"]
    assert cut[-1][0] == "仅导出前 2 个账号，请按部门或角色筛选后再导出其余账号。"


def test_the_user_list_export_is_for_admins_only(app: Any, world: World) -> None:
    _refused_like_the_page(app, world, "/admin/users", {})


def test_the_audit_log_exports_every_read_under_its_filter(app: Any, world: World, make_case: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = make_case(lead="SCJG"), make_case(lead="XFXH")
    assert browser(app, world.coordinator).get(f"/cases/{first.id}").status_code == 200
    assert browser(app, world.liaison("XFXH")).get(f"/cases/{second.id}").status_code == 200
    client = browser(app, world.admin)
    assert 'href="/admin/audit?user=liaison_xfxh&amp;format=xlsx" download' in client.get(
        "/admin/audit", params={"user": "liaison_xfxh"}).text
    sheet, rows = sheet_of(client.get("/admin/audit", params={"user": "liaison_xfxh", "format": "xlsx"}))
    assert sheet.title == "个人信息查阅记录"
    assert rows[0] == ["查阅时间", "查阅人", "登录名", "所在部门", "案件编号", "查阅内容"]
    assert len(rows) == 2
    at, *rest = rows[1]
    assert at == datetime(2026, 12, 1, 10, 0)  # the clock's instant, Shanghai wall time
    assert rest == ["李联络", "liaison_xfxh", "消费者协会", second.reference,
                    "查看投诉人完整信息：姓名、联系电话、身份证号、地址"]
    assert PHONE not in str(rows) and "张三" not in str(rows)
    monkeypatch.setattr(case_export, "EXPORT_LIMIT", 1)
    _sheet, cut = sheet_of(client.get("/admin/audit", params={"format": "xlsx"}))
    assert cut[1][4] == second.reference  # newest first
    assert cut[-1][0] == "仅导出最近的 1 条查阅记录（从新到旧），请缩小筛选范围后再导出其余记录。"
    # A filter that names nobody: the page with its reason, not a file.
    refused = client.get("/admin/audit", params={"user": "nobody", "format": "xlsx"})
    assert refused.status_code == 200 and refused.headers["content-type"].startswith("text/html")


def test_the_audit_log_export_is_for_admins_only(app: Any, world: World, make_case: Any) -> None:
    case = make_case(lead="SCJG")
    assert browser(app, world.coordinator).get(f"/cases/{case.id}").status_code == 200
    _refused_like_the_page(app, world, "/admin/audit", {})


def test_the_outbox_exports_the_state_it_lists(app: Any, session: Session, world: World) -> None:
    failed = put_mail(app, OutboxState.FAILED, 2, to="failed{i}@gov.example")
    unknown = put_mail(app, OutboxState.UNKNOWN)
    put_mail(app, OutboxState.SENT, to="sent{i}@gov.example")
    client = browser(app, world.admin)
    assert 'href="/admin/outbox?format=xlsx" download' in client.get("/admin/outbox").text
    sheet, rows = sheet_of(client.get("/admin/outbox", params={"format": "xlsx"}))
    assert sheet.title == "邮件发送"
    assert rows[0] == ["编号", "状态", "生成时间", "收件人", "电子邮箱", "主题", "尝试次数", "最近一次错误"]
    assert [r[0] for r in rows[1:]] == [*unknown, *reversed(failed)]  # as the page: unknown, then failed
    assert rows[-1][1:] == ["发送失败", datetime(2026, 12, 1, 10, 0), None, "failed0@gov.example",
                            "【共治】待办事项提醒", 1, "550 5.1.1 no such user"]
    english = in_english(session, world.admin)
    _sheet, sent = sheet_of(browser(app, english).get("/admin/outbox", params={"state": "sent", "format": "xlsx"}))
    assert sent[0][:3] == ["No.", "State", "Created"] and [r[4] for r in sent[1:]] == ["sent0@gov.example"]
    assert date(2026, 12, 1) == sent[1][2].date()


def test_the_outbox_export_is_for_admins_only(app: Any, world: World) -> None:
    put_mail(app, OutboxState.FAILED)
    _refused_like_the_page(app, world, "/admin/outbox", {"state": "failed"})
