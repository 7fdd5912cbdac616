"""Joint inspections in Chromium: scheduled through the real form, then the month at 390 px.

Reuses the uvicorn site and browser of tests/test_browser.py (SQLite; Debian's
Chromium driven by Playwright).  Screenshots are kept like that module's.
"""

from __future__ import annotations

from typing import Any

from tests.test_browser import Site, chromium, login, page, playwright, site  # noqa: F401 - fixtures

PHONE = {"width": 390, "height": 844}


def test_a_coordinator_schedules_an_inspection_and_the_month_fits_a_phone(page: Any, site: Site,  # noqa: F811
                                                                          chromium: Any) -> None:  # noqa: F811
    login(page, site, "coordinator", "/inspections/new")
    page.get_by_label("关联案件").fill(str(site.case_id))
    page.get_by_label("标题").fill("健身门店联合检查")
    page.get_by_label("检查日期").fill("2026-12-09")
    page.get_by_label("牵头部门").select_option(label="市场监督管理局")
    page.get_by_label("体育局").check()
    page.get_by_label("检查地点").fill("鼓楼区中山路88号")
    page.get_by_label("检查对象").fill("某某健身管理有限公司")
    page.get_by_role("button", name="安排检查").click()
    page.wait_for_load_state()
    assert "/inspections/" in page.url and page.get_by_text("联合检查已安排").is_visible()
    detail = page.url

    page.get_by_role("link", name="联合检查", exact=True).first.click()
    page.goto(site.base + "/inspections?month=2026-12")
    cell = page.locator('.cal-day:has(time[datetime="2026-12-09"])')
    assert cell.get_by_role("link", name="健身门店联合检查").is_visible()
    page.screenshot(path=site.shots / "inspections-month.png", full_page=True)

    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2, is_mobile=True)
    try:
        small = phone.new_page()
        login(small, site, "coordinator", "/inspections?month=2026-12")
        width = small.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the month spills to {width}px"
        # Days are stacked: the inspection's day reads as one full-width row with its weekday written out.
        row = small.locator('.cal-day:has(time[datetime="2026-12-09"])')
        assert row.is_visible() and "周三" in row.inner_text()
        assert row.bounding_box()["width"] > PHONE["width"] * 0.8
        small.screenshot(path=site.shots / "inspections-month-390.png", full_page=True)
        small.goto(detail)
        small.screenshot(path=site.shots / "inspection-390.png", full_page=True)
        wide = small.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 392).slice(0, 8)
            .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert small.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], wide
    finally:
        phone.close()
