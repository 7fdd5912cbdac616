"""Dispatch with 主办 and 协办, and 交办 to a 承办人, in Chromium, each person in a browser of their own.

The coordinator fills in the dispatch form, asks for the deadlines (计算期限: the
page is drawn again by the server, no script involved) and sees them, marked 暂定
when they fall in 2027, whose holiday schedule is not official yet; then
dispatches.  Each department's liaison finds its own assignment marked 主办 or
协办.  The consumer association's liaison accepts and hands the work to a
colleague, who finds it first in his queue.  Screenshots kept (GONGZHI_SCREENSHOT_DIR).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.schemas import DispatchIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from tests import test_browser
from tests.factories import add_colleague, build_world, case_input
from tests.test_browser import serve, sign_in
from tests.test_browser_phone import LAYOUT_PROBLEMS, serious_violations

playwright, chromium = test_browser.playwright, test_browser.chromium

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TITLE = "某连锁健身房停业预付卡退费难"
REQUIREMENTS = "体育局牵头核查经营许可；消费者协会组织调解退费；商务局核查单用途预付卡备案"


@dataclass
class Desk:
    base: str
    shots: Path
    case_id: int
    ids: dict[str, int]
    sessions: dict[str, list[Any]] = field(default_factory=dict)  # test_browser.sign_in()'s


def _seed(engine: Any, clock: FrozenClock) -> tuple[int, dict[str, int]]:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, clock)
        add_colleague(s, clock, world, "XFXH", "liaison2_xfxh", "钱联络")
        case = cases.create_case(s, clock, world.coordinator, case_input(world, title=TITLE, category="预付式消费"))
        # More urgent work of the consumer association, which its queue would otherwise list first.
        other = cases.create_case(s, clock, world.coordinator, case_input(world, title="美容院办卡后闭店"))
        assignments.dispatch(s, clock, world.coordinator, other.id, DispatchIn(  # type: ignore[arg-type]
            department_id=world.dept("XFXH").id, working_days=1, instructions="组织调解"))
        s.commit()
        return case.id, {code: d.id for code, d in world.departments.items()}  # type: ignore[return-value]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with serve(tmp_path_factory.mktemp("dispatch"), _seed) as (base, shots, (case_id, ids)):
        yield Desk(base=base, shots=shots, case_id=case_id, ids=ids)


@pytest.fixture
def tab_for(chromium: Any, desk: Desk) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_tab(who: str, path: str, viewport: dict[str, int] = DESKTOP, scripts: bool = True) -> Any:
        context = chromium.new_context(viewport=viewport, locale="zh-CN", java_script_enabled=scripts)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        sign_in(tab, desk, who, path)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def press(tab: Any, scope: str, name: str) -> None:
    tab.locator(scope).get_by_role("button", name=name, exact=True).click()
    tab.wait_for_load_state()


def test_dispatch_lead_and_assists_with_the_due_date_shown_first_then_hand_over(tab_for: Any, desk: Desk) -> None:
    case_path = f"/cases/{desk.case_id}"
    coordinator = tab_for("coordinator", case_path)
    form = coordinator.locator("#form-dispatch")
    # Before anything is typed, the deadlines of the case's default time limit (12315: 7 working days).
    due = form.locator("#dp-due")
    assert "按 7 个工作日计算" in due.inner_text() and "2026-12-10（周四）17:30" in due.inner_text()
    assert "暂定" not in due.inner_text()

    form.get_by_label("主办部门").select_option(str(desk.ids["TYJ"]))
    form.get_by_label("消费者协会").check()
    form.get_by_label("商务局").check()
    form.get_by_label("办理时限（工作日）（选填）").fill("25")
    # Where scripts run, the deadlines follow the typing (our own /static/dispatch.js, the JSON preview).
    from playwright.sync_api import expect

    expect(due).to_contain_text("按 25 个工作日计算")
    live = due.inner_text()
    assert re.search(r"2027-01-\d\d（周.）17:30", live) and due.locator(".badge", has_text="暂定").is_visible(), live
    press(coordinator, "#form-dispatch", "计算期限")
    # Drawn again by the server: the deadlines for 25 working days, in 2027, marked provisional; input kept.
    form = coordinator.locator("#form-dispatch")
    due = form.locator("#dp-due")
    text = due.inner_text()
    assert "按 25 个工作日计算" in text and re.search(r"2027-01-\d\d（周.）17:30", text), text
    assert text == live  # the script wrote what the server writes
    assert due.locator(".badge", has_text="暂定").is_visible()
    assert "官方节假日安排尚未公布" in text
    assert form.get_by_label("主办部门").input_value() == str(desk.ids["TYJ"])
    assert form.get_by_label("消费者协会").is_checked() and form.get_by_label("商务局").is_checked()
    assert not form.get_by_label("公安局").is_checked()
    assert form.get_by_label("办理时限（工作日）（选填）").input_value() == "25"
    assert coordinator.locator(".flash").count() == 0  # nothing was done, nothing to report
    assert serious_violations(coordinator) == []
    coordinator.screenshot(path=desk.shots / "dispatch-preview.png", full_page=True)
    previewed = re.search(r"2027-\d\d-\d\d（周.）17:30", text)
    assert previewed is not None

    form.get_by_label("办理要求（必填）").fill(REQUIREMENTS)
    press(coordinator, "#form-dispatch", "派发")
    assert "任务已派发：主办 1 个部门，协办 2 个部门" in coordinator.get_by_role("status").inner_text()
    rows = coordinator.locator("#asg-h").locator("xpath=../..").locator("tbody tr")
    assert rows.count() == 3
    listed = [rows.nth(i).inner_text() for i in range(3)]
    assert "主办" in listed[0] and "体育局" in listed[0]
    assert all("协办" in row for row in listed[1:]) and {"消费者协会", "商务局"} <= {
        name for row in listed[1:] for name in ("消费者协会", "商务局") if name in row}
    assert all(previewed.group(0) in row for row in listed)  # the date shown before is the date set
    coordinator.screenshot(path=desk.shots / "dispatch-done.png", full_page=True)

    # Each department's liaison finds its own assignment, marked with its part.
    for who, role in (("liaison_tyj", "主办"), ("liaison_xfxh", "协办"), ("liaison_swj", "协办")):
        tab = tab_for(who, "/queue")
        row = tab.locator("tbody tr", has_text=TITLE)
        assert row.count() == 1, who
        assert role in row.inner_text() and ({"主办", "协办"} - {role}).pop() not in row.inner_text(), who

    # The consumer association's liaison accepts, then hands it to his colleague 钱联络.
    consumer = tab_for("liaison_xfxh", "/queue")
    consumer.locator("tbody tr", has_text=TITLE).get_by_role("link", name=TITLE).click()
    consumer.wait_for_load_state()
    assert "协办" in consumer.locator("#details-h").locator("xpath=..").inner_text()
    press(consumer, "#form-accept", "签收")
    handover = consumer.locator("#form-assign")
    handover.get_by_label("承办人").select_option(label="钱联络（联络员）")
    press(consumer, "#form-assign", "交办")
    assert "已交办" in consumer.get_by_role("status").inner_text()
    assert "钱联络" in consumer.locator("#details-h").locator("xpath=..").inner_text()
    assignment_path = consumer.url.removeprefix(desk.base)

    colleague = tab_for("liaison2_xfxh", "/queue")
    assert colleague.locator("tbody tr").count() == 2  # the department's two, his own first, though due later
    first = colleague.locator("tbody tr").first
    assert first.get_by_role("link", name=TITLE).get_attribute("href") == assignment_path
    assert "我承办" in first.inner_text()
    colleague.screenshot(path=desk.shots / "queue-assignee-first.png", full_page=True)

    # The same queue on a phone: the card layout holds, the handed-over work still first.
    phone = tab_for("liaison2_xfxh", "/queue", PHONE)
    assert phone.evaluate(LAYOUT_PROBLEMS) == []
    assert "我承办" in phone.locator("tbody tr").first.inner_text()
    assert serious_violations(phone) == []
    phone.screenshot(path=desk.shots / "queue-assignee-first-390.png", full_page=True)


def test_without_javascript_the_button_shows_the_deadlines(tab_for: Any, desk: Desk) -> None:
    coordinator = tab_for("coordinator", f"/cases/{desk.case_id}", scripts=False)
    form = coordinator.locator("#form-dispatch")
    form.get_by_label("办理时限（工作日）（选填）").fill("30")
    assert "按 30 个工作日计算" not in form.locator("#dp-due").inner_text()  # no script: nothing moves by itself
    press(coordinator, "#form-dispatch", "计算期限")
    due = coordinator.locator("#form-dispatch #dp-due")
    assert "按 30 个工作日计算" in due.inner_text() and "2027-01-" in due.inner_text()
    assert due.locator(".badge", has_text="暂定").is_visible()
    # Asked again with a shorter limit, it is an ordinary date of this year, not provisional.
    coordinator.locator("#form-dispatch").get_by_label("办理时限（工作日）（选填）").fill("3")
    press(coordinator, "#form-dispatch", "计算期限")
    due = coordinator.locator("#form-dispatch #dp-due")
    assert "按 3 个工作日计算" in due.inner_text() and "2026-12-04（周五）17:30" in due.inner_text()
    assert not due.locator(".badge", has_text="暂定").is_visible()
    # An impossible limit is refused beside its field, and what was typed stays.
    coordinator.locator("#form-dispatch").get_by_label("办理时限（工作日）（选填）").fill("500")
    press(coordinator, "#form-dispatch", "计算期限")
    assert coordinator.locator("#err-dispatch-working_days").is_visible()
    assert coordinator.locator("#dp-days").input_value() == "500"
