"""DESIGN §2 played through the pages in Chromium, each person in a browser of their own.

A coordinator (市场监管局), the liaisons of 体育局 and 消费者协会, the head of 体育局
and a leader work one case of prepaid gym cards from intake to closing, only
through the pages and only as those people would: the coordinator opens the case
on /cases/new (shared with 体育局 there) and shares it with 消费者协会 from the case
page; dispatch in one step (体育局 主办, 消费者协会 协办, the deadlines shown
first), accept, return and redispatch, an extension the head approves, an edit
conflict between two people on the same feedback form, a send-back by the
coordinator, feedback sent with a file (a progress bar, scripts running), head
sign-off (审签: 体育局 requires it) sent back once with a note and then given,
approval, a callback, closing; the leader then reads the weekly figures.  Then
the queue, the inbox, the assignment and the case at 390 px under axe,
screenshots kept (GONGZHI_SCREENSHOT_DIR).

Seeded, not played: the departments, their people and 体育局's sign-off setting
(an administrator's, before the story).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from shared.clock import FrozenClock
from tests import test_browser
from tests.factories import build_world
from tests.test_attachments import pdf_bytes
from tests.test_browser import serve, sign_in
from tests.test_browser_phone import LAYOUT_PROBLEMS, serious_violations

playwright, chromium = test_browser.playwright, test_browser.chromium

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
TITLE = "某健身连锁预付卡退费难（12315 集中投诉）"
CREDIT_CODE = "91350100M000100Y43"
WAIT = 10_000  # ms; as long as any other step may take on a loaded CI machine


@dataclass
class Story:
    base: str
    shots: Path
    ids: dict[str, int]  # department ids by code
    clock: FrozenClock  # the app's: the day goes on between steps
    sessions: dict[str, list[Any]] = field(default_factory=dict)  # test_browser.sign_in()'s

    def later(self, minutes: int = 20) -> None:
        self.clock.advance(minutes=minutes)


def _seed(engine: Any, clock: FrozenClock) -> tuple[dict[str, int], FrozenClock]:
    """The departments and their people; 体育局's feedback goes out only once its head has signed it off."""
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, clock)
        world.dept("TYJ").signoff_required = True
        s.commit()
        return {code: d.id for code, d in world.departments.items()}, clock  # type: ignore[misc]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with serve(tmp_path_factory.mktemp("story"), _seed) as (base, shots, (ids, clock)):
        yield Story(base=base, shots=shots, ids=ids, clock=clock)


@pytest.fixture
def people(chromium: Any, story: Story) -> Iterator[dict[str, Any]]:
    """One signed-in tab per person, each in its own browser context (own cookies, own session)."""
    contexts: list[Any] = []
    tabs: dict[str, Any] = {}
    for who in ("coordinator", "liaison_tyj", "liaison_xfxh", "head_tyj", "leader"):
        context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(WAIT)
        sign_in(tab, story, who, "/queue")
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

    # 1. The coordinator opens the case from the 12315 complaints, shared with sports at once.
    go(coordinator, story, "/cases")
    coordinator.get_by_role("link", name="开案").click()
    coordinator.wait_for_url("**/cases/new")
    coordinator.get_by_label("标题（必填）").fill(TITLE)
    coordinator.get_by_label("案件来源（必填）").select_option("hotline_12315")
    coordinator.get_by_label("类别（必填）").fill("预付式消费")
    coordinator.get_by_label("所属区域（区县）（选填）").fill("鼓楼区")
    coordinator.get_by_label("涉事企业名称（选填）").fill("福州某健身管理有限公司")
    coordinator.get_by_label("统一社会信用代码（选填）").fill(CREDIT_CODE)
    expect(coordinator.locator("#nc-credit-live")).to_contain_text("通过", timeout=WAIT)
    coordinator.get_by_label("投诉人姓名（选填）").fill("张三")
    coordinator.get_by_label("投诉人联系电话（选填）").fill("13800138000")
    coordinator.get_by_label("案情描述（选填）").fill("12315 热线集中投诉：门店停业，会员卡无法退费。")
    coordinator.get_by_label("体育局", exact=True).check()
    coordinator.get_by_role("button", name="开案").click()
    expect(coordinator.locator(".flash")).to_contain_text("已开案", timeout=WAIT)
    case_path = coordinator.url.removeprefix(story.base)
    assert re.fullmatch(r"/cases/\d+", case_path), case_path

    #    On the case page he shares it with the consumer association too.
    form = coordinator.locator("#form-share")
    form.get_by_label("消费者协会", exact=True).check()
    click(coordinator, "#form-share", "共享")
    assert "已共享给所选部门" in flash(coordinator)
    shared = coordinator.locator("#sh-h + ul").inner_text()
    assert "体育局" in shared and "消费者协会" in shared, shared
    coordinator.screenshot(path=story.shots / "story-00-opened.png", full_page=True)

    # 2. He dispatches in one step: sports leads (主办), checking licences; the consumer association
    #    assists (协办), mediating.  The deadlines show before he submits.
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

    #    The liaison sends what he had written (the conflict kept it), with the details asked for
    #    and the scanned notice; scripts run, so it goes up with a progress bar.  It now waits for
    #    his head: 体育局 signs its feedback off before the coordinator sees it.
    go(sports, story, sports_path)
    uploads: list[str] = []
    sports.on("request", lambda r: uploads.append(r.url) if r.method == "POST" and r.resource_type == "xhr" else None)
    details = mine + "无证门店：鼓楼店、玄武店，已下达责令整改通知书。"
    sports.get_by_label("办理情况（必填）").fill(details)
    sports.get_by_label("检查企业（家）").fill("6")
    sports.get_by_label("责令整改（份）").fill("2")
    sports.locator("#fb-files").set_input_files([{"name": "责令整改通知书.pdf", "mimeType": "application/pdf",
                                                   "buffer": pdf_bytes()}])
    sports.locator("#form-submit").get_by_role("button", name="提交反馈", exact=True).click()
    expect(sports.locator(".flash")).to_contain_text("反馈已提交", timeout=WAIT)
    assert [u for u in uploads if u.endswith(sports_path + "/feedback")], uploads
    assert state(sports) == "待审签"
    assert "责令整改通知书.pdf" in sports.locator(".feedback").last.inner_text()

    #    On the head's phone: his inbox lists it for sign-off, the assignment offers 审签 and 审签退回.
    on_a_phone(chromium, story, "head_tyj", {"inbox-signoff": "/inbox", "assignment-signoff": sports_path})

    # 5. 审签: the head finds it in his inbox and sends it back once, with a note.
    go(head, story, "/inbox")
    head.locator("section#signoffs").locator(f'a[href="{sports_path}"]').first.click()
    head.wait_for_url(f"**{sports_path}")
    head.locator("#form-send_back_signoff").get_by_label("退回意见（必填）").fill("请补充整改期限")
    click(head, "#form-send_back_signoff", "审签退回")
    assert "已退回联络员修改" in flash(head) and state(head) == "办理中"

    go(sports, story, sports_path)
    assert "请补充整改期限" in sports.locator(".feedback").last.inner_text()
    sports.get_by_label("办理情况（必填）").fill(details + "整改期限 15 日。")
    sports.get_by_label("检查企业（家）").fill("6")
    sports.get_by_label("责令整改（份）").fill("2")
    click(sports, "#form-submit", "提交反馈")
    expect(sports.locator(".flash")).to_contain_text("反馈已提交", timeout=WAIT)
    assert state(sports) == "待审签"

    go(head, story, sports_path)
    head.get_by_label("审签意见（选填）").fill("已核实，同意报送")
    click(head, "#form-sign_off", "审签通过")
    assert "已审签，反馈已报送协调办" in flash(head) and state(head) == "待审核"
    head.screenshot(path=story.shots / "story-03-signed-off.png", full_page=True)

    go(consumer, story, consumer_path)
    consumer.get_by_label("办理情况（必填）").fill("组织调解 12 起，会员退费 12 人，挽回损失 3.6 万元。")
    consumer.get_by_label("调解投诉（件）").fill("12")
    consumer.get_by_label("挽回经济损失（元）").fill("36000")
    click(consumer, "#form-submit", "提交反馈")
    assert "反馈已提交" in flash(consumer)

    # 6. The coordinator approves both; sports' comes signed off, the notice with the feedback before.
    go(coordinator, story, sports_path)
    last = coordinator.locator(".feedback").last.inner_text()
    assert "审签：通过" in last and "已核实，同意报送" in last and "整改期限 15 日" in last, last
    sent_back = coordinator.locator(".feedback").nth(1).inner_text()
    assert "审签：退回修改" in sent_back and "责令整改通知书.pdf" in sent_back, sent_back
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
    assert "责令整改通知书.pdf" in coordinator.locator("ul.files").inner_text()  # the feedback's file, on the case

    # 6. All work done: the case closes.
    coordinator.locator("#form-close").get_by_label("结案说明（选填）").fill("各部门均已办结，群众基本满意")
    click(coordinator, "#form-close", "结案")
    assert "案件已结案" in flash(coordinator)
    assert coordinator.locator(".head-state .state").inner_text() == "已结案"
    coordinator.screenshot(path=story.shots / "story-04-closed.png", full_page=True)

    # 8. The leader reads this week's figures and the case, and can change nothing.
    go(leader, story, "/reports")
    leader.get_by_role("link", name="本周截至目前").click()
    leader.wait_for_load_state()
    week = leader.locator(".report-card").first.inner_text()
    assert "新增案件\n1" in week and "办结案件\n1" in week, week
    assert leader.get_by_role("heading", name="各部门按时反馈排名").first.is_visible()
    leader.screenshot(path=story.shots / "story-05-reports.png", full_page=True)

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
        tab.set_default_timeout(WAIT)
        sign_in(tab, story, who, "/queue")
        for name, path in paths.items():
            go(tab, story, path)
            tab.screenshot(path=story.shots / f"story-{name}-{who}-390.png", full_page=True)
            assert tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (who, name)
            assert tab.evaluate(LAYOUT_PROBLEMS) == [], (who, name)
            assert serious_violations(tab) == [], (who, name)
    finally:
        context.close()
