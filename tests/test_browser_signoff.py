"""Head sign-off (审签) in a real browser: the liaison submits, the head sends it back and then signs it.

Three people in separate browser contexts over the app under uvicorn (tests/test_browser.py's
`serve`): the consumer association requires sign-off, so its liaison's feedback waits for its
head, who finds it in his inbox, sends it back with a note from a phone, and signs the corrected
feedback off; only then does the coordinator get the review buttons.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments.schemas import DispatchIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from tests.factories import PASSWORD, build_world, case_input
from tests.test_browser import chromium, playwright, serve  # noqa: F401  (fixtures)
from tests.test_browser_phone import serious_violations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


def _seed(engine: Any, clock: FrozenClock) -> int:
    """消费者协会 requires sign-off; one of its assignments is accepted, waiting for feedback."""
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, clock)
        world.dept("XFXH").signoff_required = True
        case = cases.create_case(s, clock, world.coordinator, case_input(world, shared=("XFXH",)))
        a = assignments.dispatch(s, clock, world.coordinator, case.id, DispatchIn(  # type: ignore[arg-type]
            department_id=world.dept("XFXH").id, working_days=5, instructions="组织调解会员退费投诉"))
        s.flush()
        assignments.accept(s, clock, world.liaison("XFXH"), a.id, a.version)  # type: ignore[arg-type]
        s.commit()
        return a.id  # type: ignore[return-value]


@pytest.fixture(scope="module")
def signoff_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    with serve(tmp_path_factory.mktemp("signoff"), _seed) as served:
        yield served


def person(chromium: Any, base: str, username: str, viewport: dict[str, int]) -> Any:  # noqa: F811
    """A signed-in tab in its own browser context (its own cookies)."""
    tab = chromium.new_context(viewport=viewport, locale="zh-CN").new_page()
    tab.set_default_timeout(10_000)
    tab.goto(base + "/login")
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码").fill(PASSWORD)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_load_state()
    return tab


def state(tab: Any) -> str:
    return tab.locator(".head-state .state").inner_text()  # type: ignore[no-any-return]


def test_the_head_sends_back_then_signs_off_before_the_coordinator_reviews(
    chromium: Any, signoff_site: tuple[str, Path, int],  # noqa: F811
) -> None:
    base, shots, a_id = signoff_site
    path = f"{base}/assignments/{a_id}"
    liaison = person(chromium, base, "liaison_xfxh", DESKTOP)
    head = person(chromium, base, "head_xfxh", PHONE)
    coordinator = person(chromium, base, "coordinator", DESKTOP)

    liaison.goto(path)
    liaison.get_by_label("办理情况（必填）").fill("组织双方调解，会员退费 12 人。")
    liaison.get_by_role("button", name="提交反馈").click()
    liaison.wait_for_load_state()
    assert state(liaison) == "待审签"
    assert "待部门负责人审签" in liaison.locator(".feedback").inner_text()
    assert liaison.get_by_role("button", name="审签通过").count() == 0

    coordinator.goto(path)
    assert state(coordinator) == "待审签"
    assert coordinator.get_by_role("button", name="审核通过").count() == 0

    # The head finds it in his inbox, on his phone, and the actions are at the top of the item.
    head.goto(base + "/inbox")
    section = head.locator("section#signoffs")
    assert "待审签的反馈" in section.inner_text()
    section.locator(f'a[href="/assignments/{a_id}"]').first.click()
    head.wait_for_url(f"**/assignments/{a_id}")
    jump = head.get_by_role("link", name="审签退回")
    assert jump.bounding_box()["y"] < 400 and head.get_by_role("link", name="审签通过").bounding_box()["y"] < 400
    head.screenshot(path=shots / "assignment-awaiting-signoff-390.png", full_page=True)
    assert serious_violations(head) == []
    jump.click()
    head.wait_for_function("location.hash === '#form-send_back_signoff'")
    note = head.get_by_label("退回意见（必填）")
    assert 0 <= note.bounding_box()["y"] < PHONE["height"]
    note.fill("请补充调解协议书编号和退费金额")
    head.locator("#form-send_back_signoff").get_by_role("button", name="审签退回").click()
    head.wait_for_load_state()
    assert "已退回联络员修改" in head.get_by_role("status").inner_text()
    assert state(head) == "办理中"

    liaison.goto(path)
    assert "审签：退回修改" in liaison.locator(".feedback").inner_text()
    assert "请补充调解协议书编号和退费金额" in liaison.locator(".feedback").inner_text()
    corrected = "组织双方调解，会员退费 12 人，协议书编号 XF-2026-118，退费 3.6 万元。"
    liaison.get_by_label("办理情况（必填）").fill(corrected)
    liaison.get_by_role("button", name="提交反馈").click()
    liaison.wait_for_load_state()
    assert state(liaison) == "待审签"

    head.goto(path)
    head.get_by_label("审签意见（选填）").fill("已核实，同意报送")
    head.locator("#form-sign_off").get_by_role("button", name="审签通过").click()
    head.wait_for_load_state()
    assert "已审签，反馈已报送协调办" in head.get_by_role("status").inner_text()
    assert state(head) == "待审核"

    coordinator.goto(path)
    assert state(coordinator) == "待审核"
    feedback = coordinator.locator(".feedback").last.inner_text()
    assert "审签：通过" in feedback and "已核实，同意报送" in feedback
    coordinator.screenshot(path=shots / "assignment-signed-off.png", full_page=True)
    coordinator.get_by_role("button", name="审核通过").click()
    coordinator.wait_for_load_state()
    assert state(coordinator) == "已办结"
    coordinator.locator(".crumb a").click()
    coordinator.wait_for_load_state()
    timeline = coordinator.locator(".timeline").inner_text()
    for step in ("提交反馈", "审签退回", "请补充调解协议书编号和退费金额", "审签通过", "审核通过"):
        assert step in timeline, step
    for tab in (liaison, head, coordinator):
        tab.context.close()
