"""DESIGN §2 played through the pages in Chromium, each person in a browser of their own.

A coordinator (市场监管局), the liaisons of 体育局 and 消费者协会, the head of 体育局
and a leader work one case of prepaid gym cards from dispatch to closing, only
through the pages and only as those people would: dispatch (主办 and 协办 in one
step, the deadlines shown first), accept, return and
redispatch, an extension the head approves, feedback, a send-back, an edit
conflict between two people on the same form, approval, a callback, closing;
the leader then reads the weekly figures.  Then the queue and the assignment at
390 px, screenshots kept (GONGZHI_SCREENSHOT_DIR).

Not played here, because the pages do not exist yet: opening the case
(/cases/new; the case is seeded, already shared with the departments),
sharing it from a page, uploads, and head sign-off (审签).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from shared.cases import service as cases
from shared.clock import FrozenClock
from tests import test_browser
from tests.factories import build_world, case_input
from tests.test_browser import login, serve
from tests.test_browser_phone import LAYOUT_PROBLEMS, serious_violations

playwright, chromium = test_browser.playwright, test_browser.chromium

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
TITLE = "某健身连锁预付卡退费难（12315 集中投诉）"


@dataclass
class Story:
    base: str
    shots: Path
    case_id: int
    ids: dict[str, int]  # department ids by code
    clock: FrozenClock  # the app's: the day goes on between steps

    def later(self, minutes: int = 20) -> None:
        self.clock.advance(minutes=minutes)


def _seed(engine: Any, clock: FrozenClock) -> tuple[int, dict[str, int], FrozenClock]:
    """The departments and their people, and the case the coordinator opened and shared (no page for that yet)."""
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, clock)
        case = cases.create_case(s, clock, world.coordinator, case_input(
            world, shared=("TYJ", "XFXH", "SWJ"), title=TITLE, category="预付式消费"))
        s.commit()
        return case.id, {code: d.id for code, d in world.departments.items()}, clock  # type: ignore[return-value,misc]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with serve(tmp_path_factory.mktemp("story"), _seed) as (base, shots, (case_id, ids, clock)):
        yield Story(base=base, shots=shots, case_id=case_id, ids=ids, clock=clock)


@pytest.fixture
def people(chromium: Any, story: Story) -> Iterator[dict[str, Any]]:
    """One signed-in tab per person, each in its own browser context (own cookies, own session)."""
    contexts: list[Any] = []
    tabs: dict[str, Any] = {}
    for who in ("coordinator", "liaison_tyj", "liaison_xfxh", "head_tyj", "leader"):
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        login(tab, story, who, "/queue")  # type: ignore[arg-type]
        tabs[who] = tab
    yield tabs
    for context in contexts:
        context.close()


def flash(tab: Any) -> str:
    return str(tab.get_by_role("status").inner_text())


def go(tab: Any, story: Story, path: str) -> None:
    story.later(5)  # a working Tuesday from 10:00 on: the whole story takes a few hours of it
    tab.goto(story.base + path)
    tab.wait_for_load_state()


def click(tab: Any, scope: str, name: str) -> None:
    """Press the button NAME of the form SCOPE and wait for the page it leads to."""
    tab.locator(scope).get_by_role("button", name=name, exact=True).click()
    tab.wait_for_load_state()


def state(tab: Any) -> str:
    return str(tab.locator(".head-state .state").first.inner_text())


def test_the_whole_story_in_the_browser(chromium: Any, people: dict[str, Any], story: Story) -> None:
    coordinator, sports, consumer = people["coordinator"], people["liaison_tyj"], people["liaison_xfxh"]
    head, leader = people["head_tyj"], people["leader"]
    case_path = f"/cases/{story.case_id}"

    # 2. The coordinator dispatches in one step: sports leads (主办), checking licences; the consumer
    #    association assists (协办), mediating.  The deadlines show before he submits.
    go(coordinator, story, case_path)
    assert coordinator.get_by_role("heading", name=TITLE).is_visible()
    form = coordinator.locator("#form-dispatch")
    form.get_by_label("主办部门").select_option(str(story.ids["TYJ"]))
    form.get_by_label("消费者协会").check()
    form.get_by_label("办理时限（工作日）（选填）").fill("5")
    click(coordinator, "#form-dispatch", "计算期限")
    form = coordinator.locator("#form-dispatch")
    assert "按 5 个工作日计算" in form.locator("#dp-due").inner_text()
    form.get_by_label("办理要求（必填）").fill("体育局核查该健身连锁各门店体育经营许可及预付卡备案情况；"
                                            "消费者协会组织调解会员退费投诉，统计挽回经济损失")
    click(coordinator, "#form-dispatch", "派发")
    assert "任务已派发：主办 1 个部门，协办 1 个部门" in flash(coordinator)
    assert "未办结任务 2 项" in coordinator.locator("#asg-h").locator("xpath=..").inner_text()
    coordinator.screenshot(path=story.shots / "story-01-dispatched.png", full_page=True)

    # 4. Each liaison finds the work in the department's queue.  Sports accepts.
    go(sports, story, "/queue")
    sports.get_by_role("link", name=TITLE).first.click()
    sports.wait_for_load_state()
    sports_path = sports.url.removeprefix(story.base)
    assert "核查该健身连锁各门店体育经营许可" in sports.locator("main").inner_text()
    click(sports, "#form-accept", "签收")
    assert "已签收" in flash(sports) and state(sports) == "办理中"

    #    The consumer association returns it: the complainants' list is missing.
    go(consumer, story, "/queue")
    consumer.get_by_role("link", name=TITLE).first.click()
    consumer.wait_for_load_state()
    consumer_path = consumer.url.removeprefix(story.base)
    form = consumer.locator("#form-return")
    form.get_by_label("退回原因").select_option(label="其他")
    form.get_by_label("说明（原因为“其他”时必填）").fill("未附投诉人名单及联系方式，无法组织调解，请补充后重新派发")
    click(consumer, "#form-return", "退回")
    assert "已退回" in flash(consumer) and state(consumer) == "已退回"

    #    The coordinator sees the return in his queue and sends it again, with the list.
    go(coordinator, story, consumer_path)
    form = coordinator.locator("#form-redispatch")
    assert form.get_by_label("承办部门").input_value() == str(story.ids["XFXH"])
    form.get_by_label("办理要求（选填）").fill("已补充投诉人名单（12 人）及联系方式，请组织调解")
    click(coordinator, "#form-redispatch", "重新派发")
    assert "已重新派发" in flash(coordinator) and state(coordinator) == "待签收"

    go(consumer, story, consumer_path)
    assert "已补充投诉人名单（12 人）" in consumer.locator("main").inner_text()
    click(consumer, "#form-accept", "签收")
    assert state(consumer) == "办理中"

    # 4. Sports needs more time; its head approves the extension.
    go(sports, story, sports_path)
    due_before = sports.locator("dl.facts").first.inner_text()
    form = sports.locator("#form-request_extension")
    form.get_by_label("延期工作日数").fill("3")
    form.get_by_label("延期理由（必填）").fill("部分门店已停业，需会同属地街道上门核查")
    click(sports, "#form-request_extension", "申请延期")
    assert "延期申请已提交" in flash(sports)

    go(head, story, sports_path)
    assert "部分门店已停业" in head.locator("#form-decide_extension").inner_text()
    click(head, "#form-decide_extension", "批准延期")
    go(sports, story, sports_path)
    assert sports.locator("dl.facts").first.inner_text() != due_before  # the new due date shows

    # 9. (edit conflict) The liaison and the head both write the feedback; the head sends first.
    go(sports, story, sports_path)
    go(head, story, sports_path)
    mine = "核查门店 6 家，其中 2 家无体育经营许可，已责令停业整改。"
    sports.get_by_label("办理情况（必填）").fill(mine)
    sports.get_by_label("检查企业（家）").fill("6")
    head.get_by_label("办理情况（必填）").fill("已核查门店 6 家。")
    head.get_by_label("检查企业（家）").fill("6")
    click(head, "#form-submit", "提交反馈")
    assert "反馈已提交" in flash(head)
    click(sports, "#form-submit", "提交反馈")
    conflict = sports.locator("section.conflict")
    assert conflict.is_visible()
    assert "待审核" in conflict.locator(".conflict-theirs").inner_text()  # what the head did
    assert mine in conflict.locator(".conflict-yours").inner_text()  # nothing the liaison typed is lost
    sports.screenshot(path=story.shots / "story-02-conflict.png", full_page=True)

    # 6. The coordinator finds the head's report thin and sends it back.
    go(coordinator, story, sports_path)
    assert "已核查门店 6 家。" in coordinator.locator(".feedback").inner_text()
    coordinator.locator("#form-send_back").get_by_label("退回重办理由（必填）").fill("请写明无证门店名称及处理措施")
    click(coordinator, "#form-send_back", "退回重办")
    assert "已退回重办" in flash(coordinator)

    # Mid-way, on a phone: the liaison's queue holds the work sent back, the assignment its history.
    on_a_phone(chromium, story, "liaison_tyj", {"queue-midway": "/queue", "assignment-midway": sports_path})

    #    The liaison sends what he had written (the conflict kept it), with the details asked for.
    go(sports, story, sports_path)
    sports.get_by_label("办理情况（必填）").fill(mine + "无证门店：鼓楼店、玄武店，已下达责令整改通知书。")
    sports.get_by_label("检查企业（家）").fill("6")
    sports.get_by_label("责令整改（份）").fill("2")
    click(sports, "#form-submit", "提交反馈")
    assert "反馈已提交" in flash(sports)

    go(consumer, story, consumer_path)
    consumer.get_by_label("办理情况（必填）").fill("组织调解 12 起，会员退费 12 人，挽回损失 3.6 万元。")
    consumer.get_by_label("调解投诉（件）").fill("12")
    consumer.get_by_label("挽回经济损失（元）").fill("36000")
    click(consumer, "#form-submit", "提交反馈")
    assert "反馈已提交" in flash(consumer)

    # 6. The coordinator approves both.
    for path in (sports_path, consumer_path):
        go(coordinator, story, path)
        click(coordinator, "#form-approve", "审核通过")
        assert "已审核通过" in flash(coordinator) and state(coordinator) == "已办结"

    #    回访: the complainant is reached on the second try and basically satisfied.
    go(coordinator, story, case_path)
    form = coordinator.locator("#form-callback")
    form.get_by_label("已联系上").check()
    form.get_by_label("联系次数").fill("2")
    form.get_by_label("满意度").select_option(label="基本满意")
    form.get_by_label("问题是否解决").select_option(label="已解决")
    form.get_by_label("说明（选填）").fill("已退费，希望加强预付卡监管")
    click(coordinator, "#form-callback", "保存回访记录")
    assert "回访记录已保存" in flash(coordinator)
    assert "基本满意" in coordinator.locator("#callbacks").inner_text()

    # 6. All work done: the case closes.
    coordinator.locator("#form-close").get_by_label("结案说明（选填）").fill("各部门均已办结，群众基本满意")
    click(coordinator, "#form-close", "结案")
    assert "案件已结案" in flash(coordinator)
    assert coordinator.locator(".head-state .state").inner_text() == "已结案"
    coordinator.screenshot(path=story.shots / "story-03-closed.png", full_page=True)

    # 8. The leader reads this week's figures and the case, and can change nothing.
    go(leader, story, "/reports")
    leader.get_by_role("link", name="本周截至目前").click()
    leader.wait_for_load_state()
    week = leader.locator(".report-card").first.inner_text()
    assert "新增案件\n1" in week and "办结案件\n1" in week, week
    assert leader.get_by_role("heading", name="各部门按时反馈排名").first.is_visible()
    leader.screenshot(path=story.shots / "story-04-reports.png", full_page=True)

    # The same queue and assignment pages on a phone, with the story's history on them.
    for who, path in (("liaison_tyj", sports_path), ("liaison_xfxh", consumer_path), ("coordinator", sports_path)):
        on_a_phone(chromium, story, who, {"queue": "/queue", "assignment": path, "case": case_path})
    go(leader, story, case_path)
    assert leader.locator("form[method=post]").count() == 1  # signing out is all he may post
    assert "基本满意" in leader.locator("#callbacks").inner_text()


def on_a_phone(chromium: Any, story: Story, who: str, paths: dict[str, str]) -> None:
    """WHO's pages at 390 px: nothing wider than the screen, no squeezed text, no serious axe finding."""
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        login(tab, story, who, "/queue")  # type: ignore[arg-type]
        for name, path in paths.items():
            go(tab, story, path)
            tab.screenshot(path=story.shots / f"story-{name}-{who}-390.png", full_page=True)
            assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (who, name)
            assert tab.evaluate(LAYOUT_PROBLEMS) == [], (who, name)
            assert serious_violations(tab) == [], (who, name)
    finally:
        context.close()
