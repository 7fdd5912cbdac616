"""Case intake and uploads in Chromium: the credit code checked as it is typed, two files at once with a
progress bar where scripts run, the same forms with JavaScript off, a macro file refused with its reason.

The fixtures of tests/test_browser.py: Debian's Chromium, the app under uvicorn
on a free port over SQLite, a frozen working Tuesday.  Screenshots are kept as
test artefacts (GONGZHI_SCREENSHOT_DIR keeps them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests import test_browser
from tests.test_attachments import docm_bytes, pdf_bytes, png_bytes
from tests.test_browser import Site, sign_in
from tests.test_browser_phone import serious_violations

playwright, chromium, site = test_browser.playwright, test_browser.chromium, test_browser.site

GOOD_CODE = "91350100M000100Y43"
BAD_CODE = "91350100M000100Y44"


@pytest.fixture
def tabs(chromium: Any) -> Iterator[Any]:
    """Opens a desktop tab, with or without JavaScript, recording the requests it makes."""
    contexts: list[Any] = []

    def open_tab(*, javascript: bool = True) -> Any:
        context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                       java_script_enabled=javascript)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.requests = []
        tab.on("request", lambda r: tab.requests.append((r.method, r.resource_type, r.url)))
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def pdf_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes()}


def png_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def xhr_posts(tab: Any, path: str) -> list[str]:
    return [url for method, kind, url in tab.requests if method == "POST" and kind == "xhr" and url.endswith(path)]


def test_a_coordinator_opens_a_case_checking_the_credit_code_as_he_types(tabs: Any, site: Site) -> None:
    tab = tabs()
    sign_in(tab, site, "coordinator", "/cases")
    tab.get_by_role("link", name="开案").click()
    tab.wait_for_url("**/cases/new")
    assert serious_violations(tab) == []
    live = tab.locator("#nc-credit-live")
    code = tab.get_by_label("统一社会信用代码（选填）")
    code.fill(BAD_CODE)  # complete and wrong: said at once, without leaving the field
    expect(live).to_contain_text("无效")
    assert "统一社会信用代码无效" in live.inner_text() and code.get_attribute("aria-invalid") == "true"
    code.fill("913501")  # still being typed: nothing to say yet
    expect(live).to_have_text("")
    code.fill(GOOD_CODE.lower())
    expect(live).to_contain_text("通过")
    assert code.get_attribute("aria-invalid") is None

    tab.get_by_label("标题（必填）").fill("某连锁健身房预付卡投诉集中爆发")
    tab.get_by_label("案件来源（必填）").select_option("hotline_12315")
    tab.get_by_label("类别（必填）").fill("预付式消费")
    tab.get_by_label("所属区域（区县）（选填）").fill("鼓楼区")
    tab.get_by_label("涉事企业名称（选填）").fill("福州某健身管理有限公司")
    tab.get_by_label("投诉人姓名（选填）").fill("张三")
    tab.get_by_label("投诉人联系电话（选填）").fill("13800138000")
    tab.get_by_label("案情描述（选填）").fill("多名消费者反映会员卡无法使用，门店已关闭。")
    tab.get_by_label("消费者协会", exact=True).check()
    tab.locator("#nc-files").set_input_files([pdf_file("投诉汇总.pdf"), png_file("门店照片.png")])
    tab.screenshot(path=site.shots / "case-new.png", full_page=True)
    tab.get_by_role("button", name="开案").click()
    expect(tab.locator(".flash")).to_contain_text("已开案")
    assert re.search(r"/cases/\d+$", tab.url), tab.url  # the address of the case, not of the form
    assert xhr_posts(tab, "/cases/new"), "sent with a progress bar where scripts run"
    files = tab.locator("ul.files").inner_text()
    assert "投诉汇总.pdf" in files and "门店照片.png" in files
    assert "消费者协会" in tab.locator("#sh-h + ul").inner_text()
    tab.screenshot(path=site.shots / "case-opened.png", full_page=True)
    tab.goto(site.base + "/cases")
    assert "某连锁健身房预付卡投诉集中爆发" in tab.locator("main").inner_text()


def test_a_bad_credit_code_posted_anyway_is_refused_beside_the_field(tabs: Any, site: Site) -> None:
    tab = tabs()
    sign_in(tab, site, "coordinator", "/cases/new")
    tab.get_by_label("标题（必填）").fill("价格欺诈投诉")
    tab.get_by_label("案件来源（必填）").select_option("online_platform")
    tab.get_by_label("类别（必填）").fill("价格")
    tab.get_by_label("统一社会信用代码（选填）").fill(BAD_CODE)
    tab.get_by_role("button", name="开案").click()
    tab.wait_for_selector("#nc-enterprise_credit_code-err")
    assert "统一社会信用代码无效" in tab.locator("#nc-enterprise_credit_code-err").inner_text()
    assert tab.get_by_label("标题（必填）").input_value() == "价格欺诈投诉"
    assert serious_violations(tab) == []


def test_two_files_from_the_case_page_without_javascript(tabs: Any, site: Site) -> None:
    tab = tabs(javascript=False)
    sign_in(tab, site, "liaison_xfxh", f"/cases/{site.case_id}")
    tab.locator("#up-files").set_input_files([pdf_file("调解笔录.pdf"), png_file("现场照片.png")])
    tab.get_by_role("button", name="上传", exact=True).click()
    tab.wait_for_load_state()
    assert "附件已上传" in tab.locator(".flash").inner_text()
    files = tab.locator("ul.files").inner_text()
    assert "调解笔录.pdf" in files and "现场照片.png" in files
    assert not [r for r in tab.requests if r[1] == "xhr"]  # the plain form did it


def test_a_macro_file_is_refused_with_its_reason_and_nothing_is_kept(tabs: Any, site: Site) -> None:
    tab = tabs()
    sign_in(tab, site, "liaison_xfxh", f"/cases/{site.case_id}")
    before = tab.locator("section[aria-labelledby=at-h]").inner_text()
    tab.locator("#up-files").set_input_files([pdf_file("决定书.pdf"),
                                              {"name": "检查记录.docx", "mimeType": "application/octet-stream",
                                               "buffer": docm_bytes()}])
    tab.get_by_role("button", name="上传", exact=True).click()
    tab.wait_for_selector("#up-files-verdicts")
    verdicts = tab.locator("#up-files-verdicts").inner_text()
    assert "检查记录.docx：文件含有宏（VBA），为防范病毒，含宏的 Office 文件不予接收" in verdicts
    assert "决定书.pdf：通过检查，但因同批有文件被拒收而未保存" in verdicts
    assert tab.locator("section[aria-labelledby=at-h]").inner_text() == before
    assert xhr_posts(tab, f"/cases/{site.case_id}/attachments")
    tab.screenshot(path=site.shots / "upload-refused.png", full_page=True)
    assert serious_violations(tab) == []


def test_feedback_with_two_files_and_a_progress_bar(tabs: Any, site: Site) -> None:
    tab = tabs()
    sign_in(tab, site, "liaison_xfxh", f"/assignments/{site.assignment_id}")
    tab.get_by_role("button", name="签收").click()
    tab.wait_for_load_state()
    tab.get_by_label("办理情况（必填）").fill("已组织调解 12 起，挽回损失 3.2 万元。")
    tab.locator("#fb-files").set_input_files([pdf_file("调解协议.pdf"), png_file("退费凭证.png")])
    tab.get_by_role("button", name="提交反馈").click()
    expect(tab.locator(".flash")).to_contain_text("反馈已提交")
    feedback = tab.locator(".feedback").last.inner_text()
    assert "调解协议.pdf" in feedback and "退费凭证.png" in feedback
    assert xhr_posts(tab, f"/assignments/{site.assignment_id}/feedback")
