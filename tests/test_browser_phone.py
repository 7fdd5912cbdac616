"""The pages on a phone (360-390 px wide) and for people who use a keyboard or a screen reader.

Debian's Chromium, driven by Playwright against the real app (the fixtures of
tests/test_browser.py: uvicorn on a free port, SQLite, a frozen working Tuesday).
Accessibility is checked with axe-core, whose axe.min.js ships inside the
axe-playwright-python package and is injected through DevTools (the pages'
Content-Security-Policy does not govern that, and nothing loads from a CDN).

Screenshots at 390 px are saved as test artefacts (GONGZHI_SCREENSHOT_DIR keeps them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import test_browser
from tests.conftest import missing_service
from tests.test_browser import Site, chinese_renders, sign_in

# The browser tests' fixtures: Chromium and the app under uvicorn (tests/test_browser.py).
playwright, chromium, site = test_browser.playwright, test_browser.chromium, test_browser.site

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
PAGES = (  # (name, who, path); "{a}", "{c}" and "{g}" are the seeded assignment, case and campaign
    ("login", None, "/login"),
    ("queue-liaison", "liaison_xfxh", "/queue"),
    ("queue-coordinator", "coordinator", "/queue"),
    ("cases", "coordinator", "/cases"),
    ("case", "coordinator", "/cases/{c}"),
    ("case-new", "coordinator", "/cases/new"),
    ("case-edit", "coordinator", "/cases/{c}/edit"),
    ("assignment", "liaison_xfxh", "/assignments/{a}"),
    ("assignment-coordinator", "coordinator", "/assignments/{a}"),
    ("settings", "liaison_xfxh", "/settings"),
    ("campaign", "coordinator", "/campaigns/{g}"),
    ("reports", "leader", "/reports"),
    ("admin", "admin", "/admin"),
    ("admin-users", "admin", "/admin/users"),
)


def _context(chromium: Any, viewport: dict[str, int], **extra: Any) -> Any:
    return chromium.new_context(viewport=viewport, locale="zh-CN", **extra)


@pytest.fixture
def browse(chromium: Any) -> Iterator[Any]:
    """Opens a tab of the given size (phones emulate touch and the meta viewport); all closed afterwards."""
    contexts: list[Any] = []

    def open_tab(viewport: dict[str, int] = PHONE) -> Any:
        phone = viewport["width"] < 800
        context = _context(chromium, viewport, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def visit(tab: Any, site: Site, who: str | None, path: str, *, signed_in: bool = False) -> None:
    """The page drawn and loaded (goto waits for `load`; no page fetches anything after it)."""
    path = path.format(a=site.assignment_id, c=site.case_id, g=site.campaign_id)
    if who is not None and not signed_in:
        sign_in(tab, site, who, path)
    else:
        tab.goto(site.base + path)


def visit_all(open_tab: Any, site: Site, viewport: dict[str, int]) -> Iterator[tuple[str, Any]]:
    tabs: dict[str | None, Any] = {}
    for name, who, path in PAGES:
        signed_in = who in tabs
        if not signed_in:
            tabs[who] = open_tab(viewport)
        visit(tabs[who], site, who, path, signed_in=signed_in)
        yield name, tabs[who]


# Text squeezed into a column a few characters wide (the title that wrapped one character per
# line), or anything reaching past the right edge of the screen.
LAYOUT_PROBLEMS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('h1, h2, h3, a, td, th, dt, dd, label, button, p, span')) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || style.visibility === 'hidden' || el.closest('.skip')) continue;
    const head = el.closest('thead');
    if (head && getComputedStyle(head).position === 'absolute') continue;  // a card's labels say it
    const text = (el.innerText || '').trim();
    const size = parseFloat(style.fontSize);
    const what = text.slice(0, 20);
    if (text.length >= 4 && r.width < 2.5 * size && style.display !== 'inline') out.push('squeezed: ' + what);
    if (r.right > width + 1) out.push('past the edge: ' + what + ' ' + r.right);
  }
  return out;
}"""


@pytest.mark.parametrize("width", [360, 390])
def test_every_page_fits_a_phone_screen(browse: Any, site: Site, width: int) -> None:
    viewport = {"width": width, "height": 800}
    for name, tab in visit_all(browse, site, viewport):
        scroll = tab.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll} px wide at {width}"
        assert tab.evaluate(LAYOUT_PROBLEMS) == [], name
        body = tab.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert body >= 16, f"{name}: body text {body} px"
        if width == 390:
            tab.screenshot(path=site.shots / f"{name}-390.png", full_page=True)
    # The control: the same check catches a table of fixed width.
    tab.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', "
                 "'<table><tr><td class=x>' + 'GZ-2026-000001 '.repeat(8) + '</td></tr></table>');"
                 "document.querySelector('td.x').style.whiteSpace = 'nowrap'")
    assert tab.evaluate("document.documentElement.scrollWidth") > width


def test_lists_are_cards_on_a_phone_and_tables_on_a_desktop(browse: Any, site: Site) -> None:
    phone, desktop = browse(PHONE), browse(DESKTOP)
    for tab in (phone, desktop):
        visit(tab, site, "liaison_xfxh", "/queue")
    row = phone.locator("table.list tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert phone.locator("table.list thead th").first.is_visible() is False or \
        phone.locator("table.list thead").evaluate("t => t.getBoundingClientRect().height") <= 1
    # Each value is labelled in the card: "反馈期限  2026-12-08（周二）17:30".
    due = phone.locator("table.list tbody tr").first.locator("td[data-label='反馈期限']")
    assert due.evaluate("td => getComputedStyle(td, '::before').content") == '"反馈期限"'
    assert "17:30" in due.inner_text()
    box = row.bounding_box()
    assert box["width"] > 300  # the card spans the screen: the title reads on one or two lines
    title = row.locator("td.card-title")
    line = title.evaluate("td => parseFloat(getComputedStyle(td).lineHeight)")
    assert title.bounding_box()["height"] <= 2.2 * line
    assert desktop.locator("table.list tbody tr").first.evaluate("r => getComputedStyle(r).display") == "table-row"
    assert desktop.locator("table.list thead th").first.is_visible()


def test_the_navigation_is_compact_and_complete_on_a_phone(browse: Any, site: Site) -> None:
    tab = browse(PHONE)
    visit(tab, site, "coordinator", "/queue")
    header = tab.locator("header.top").bounding_box()
    assert header["height"] <= 130, header
    for name in ("工作台", "案件", "个人设置", "退出登录"):
        link = tab.get_by_role("link", name=name) if name != "退出登录" else tab.get_by_role("button", name=name)
        box = link.bounding_box()
        assert link.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    assert tab.locator(".brand").evaluate("b => b.getBoundingClientRect().height") < 40  # one line
    assert chinese_renders(tab, "h1")


def test_the_actions_of_an_assignment_are_near_the_top_on_a_phone(browse: Any, site: Site) -> None:
    tab = browse(PHONE)
    visit(tab, site, "liaison_xfxh", "/assignments/{a}")
    accept = tab.get_by_role("button", name="签收")
    assert accept.bounding_box()["y"] < 400  # on the first screen, above the details
    assert accept.bounding_box()["y"] < tab.locator("#details-h").bounding_box()["y"]
    assert tab.get_by_role("link", name="退回").bounding_box()["y"] < 400
    tab.screenshot(path=site.shots / "assignment-dispatched-390.png")
    accept.click()
    tab.wait_for_load_state()
    assert "已签收" in tab.get_by_role("status").inner_text()
    jump = tab.get_by_role("link", name="提交反馈")
    assert jump.bounding_box()["y"] < 400
    jump.click()
    tab.wait_for_function("location.hash === '#form-submit'")
    narrative = tab.get_by_label("办理情况（必填）")
    box = narrative.bounding_box()
    assert 0 <= box["y"] < PHONE["height"]  # the form is on screen, ready to type into
    tab.screenshot(path=site.shots / "assignment-feedback-form-390.png")
    assert serious_violations(tab) == []  # the long feedback form too
    # The side column's actions are where they were on a wide screen, and the links are not needed there.
    wide = browse(DESKTOP)
    visit(wide, site, "liaison_xfxh", "/assignments/{a}")
    assert wide.get_by_role("link", name="提交反馈").count() == 0
    assert wide.get_by_role("button", name="提交反馈").bounding_box()["y"] > 0


def test_the_case_page_links_to_its_forms_from_the_top_on_a_phone(browse: Any, site: Site) -> None:
    tab = browse(PHONE)
    visit(tab, site, "coordinator", "/cases/{c}")
    for name in ("派发任务", "结案", "添加备注"):
        assert tab.get_by_role("link", name=name).bounding_box()["y"] < 300, name
    tab.get_by_role("link", name="结案").click()
    tab.wait_for_function("location.hash === '#form-close'")
    assert 0 <= tab.get_by_label("结案说明（选填）").bounding_box()["y"] < PHONE["height"]
    wide = browse(DESKTOP)
    visit(wide, site, "coordinator", "/cases/{c}")
    assert not wide.locator("nav.quick-actions").is_visible()  # the side column is in view there


# ------------------------------------------------------------------ accessibility

def serious_violations(tab: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        missing_service("axe-playwright-python is not installed (pip install -e '.[dev]')")
    results = Axe().run(tab)
    return [f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_no_serious_accessibility_problems(browse: Any, site: Site, viewport: dict[str, int]) -> None:
    found = {name: problems for name, tab in visit_all(browse, site, viewport)
             if (problems := serious_violations(tab))}
    assert found == {}


def test_axe_reports_what_it_should(browse: Any, site: Site) -> None:
    """A control: an unlabelled input and grey-on-grey text are found."""
    tab = browse(PHONE)
    visit(tab, site, None, "/login")
    tab.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<input name="x"><p class="x">低对比度文字</p>');
        const p = main.querySelector('p.x'); p.style.color = '#bbb'; p.style.background = '#fff';
    }""")
    ids = " ".join(serious_violations(tab))
    assert "label" in ids and "color-contrast" in ids


def test_keyboard_focus_follows_the_page_and_is_visible(browse: Any, site: Site) -> None:
    tab = browse(PHONE)
    visit(tab, site, "coordinator", "/assignments/{a}")
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.className") == "skip"
    assert tab.locator(".skip").bounding_box()["x"] >= 0  # the skip link shows when focused
    seen: list[tuple[float, str]] = []
    for _ in range(40):
        tab.keyboard.press("Tab")
        info = tab.evaluate("""() => {
            const el = document.activeElement, r = el.getBoundingClientRect(), s = getComputedStyle(el);
            return {end: el === document.body, y: r.top + window.scrollY,
                    text: (el.innerText || el.name || el.id || '').trim().slice(0, 12),
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
        }""")
        if info["end"]:
            break
        assert info["outline"], f"no visible focus on {info['text']}"
        seen.append((info["y"], info["text"]))
    assert len(seen) >= 8 and seen[-1][1] == "撤销任务"  # every stop down to the last form's button
    # Top to bottom: each stop is on the same line as the one before or below it.
    assert all(b[0] >= a[0] - 8 for a, b in zip(seen, seen[1:], strict=False)), seen


def test_old_office_browsers_are_told_to_use_their_modern_engine(browse: Any, site: Site) -> None:
    tab = browse(DESKTOP)
    visit(tab, site, None, "/login")
    assert tab.locator('meta[name="renderer"]').get_attribute("content") == "webkit"
    assert tab.locator('meta[http-equiv="X-UA-Compatible"]').get_attribute("content") == "IE=edge"
    # Both come right after the charset, before anything an old engine would start rendering.
    order = tab.evaluate("[...document.head.children].map(e => e.getAttribute('name') || e.getAttribute('http-equiv')"
                         " || e.tagName.toLowerCase())")
    assert order.index("X-UA-Compatible") < order.index("title") and order.index("renderer") < order.index("title")


# ------------------------------------------------------------------ an edit conflict on a phone

NARRATIVE = "已约谈门店负责人，督促其制定退费方案；12 名会员已登记退费。"


def test_an_edit_conflict_on_a_phone_keeps_the_report_and_applies_it(browse: Any, site: Site) -> None:
    liaison, head = browse(PHONE), browse(PHONE)
    visit(liaison, site, "liaison_xfxh", "/queue")
    liaison.locator("tr.row-overdue a").first.click()  # the older assignment, not yet accepted
    liaison.wait_for_load_state()
    path = liaison.url.removeprefix(site.base)
    liaison.get_by_role("button", name="签收").click()
    liaison.wait_for_load_state()
    liaison.get_by_label("办理情况（必填）").fill(NARRATIVE)
    liaison.get_by_label("调解投诉（件）").fill("12")

    visit(head, site, "head_xfxh", path)  # meanwhile the head asks for more time
    head.get_by_label("延期工作日数").fill("3")
    head.get_by_label("延期理由（必填）").fill("等待检测机构出具报告")
    head.get_by_role("button", name="申请延期").click()
    head.wait_for_load_state()
    assert "延期申请已提交" in head.get_by_role("status").inner_text()

    liaison.get_by_role("button", name="提交反馈").click()
    liaison.wait_for_load_state()
    conflict = liaison.locator("section.conflict")
    assert conflict.is_visible()
    assert "等待检测机构出具报告" in conflict.locator("mark").all_inner_texts()[0]
    assert NARRATIVE in conflict.locator(".conflict-yours").inner_text()
    assert liaison.get_by_label("办理情况（必填）").input_value() == NARRATIVE
    assert liaison.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    liaison.screenshot(path=site.shots / "conflict-390.png", full_page=True)
    assert serious_violations(liaison) == []

    liaison.get_by_role("link", name="转到表单").click()
    liaison.get_by_role("button", name="提交反馈").click()
    liaison.wait_for_load_state()
    assert "反馈已提交" in liaison.get_by_role("status").inner_text()
    assert NARRATIVE in liaison.locator(".feedback").inner_text()
