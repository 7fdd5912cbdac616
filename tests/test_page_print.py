"""A work order on paper: the assignment and case pages printed to A4 PDF by Chromium.

The print stylesheet (services/api/pages/static/print.css, linked with
media="print") leaves out the navigation, the forms and the buttons and keeps
the record, its tables and its trail readable.  Chromium prints each page to a
PDF (Playwright's ``page.pdf``), kept beside the screenshots for a person to
look at (a screenshot would not do: Chromium captures screen media).
"""

from __future__ import annotations

import re
from typing import Any

from tests import test_browser
from tests.test_browser import Site, chinese_renders, login

# The browser tests' fixtures: Chromium and the app under uvicorn (tests/test_browser.py).
playwright, chromium, site, page = test_browser.playwright, test_browser.chromium, test_browser.site, test_browser.page

A4_POINTS = (595, 842)  # 210 × 297 mm


def _printed(tab: Any, site: Site, path: str, name: str) -> bytes:
    tab.goto(site.base + path)
    tab.emulate_media(media="print")
    # What a printer gets: nothing to click, nothing to navigate.
    for selector in ("header.top", "nav.main-nav", "form", "button", ".quick-actions", ".card.action",
                     "#actions-h"):
        for element in tab.locator(selector).all():
            assert not element.is_visible(), f"{selector} is printed on {path}"
    assert tab.locator("h1").first.is_visible()
    assert chinese_renders(tab, "h1")
    pdf: bytes = tab.pdf(format="A4", print_background=True, path=str(site.shots / f"{name}.pdf"))
    tab.emulate_media(media="screen")
    return pdf


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_a_work_order_prints_on_a4_without_the_screen_controls(page: Any, site: Site) -> None:
    login(page, site, "coordinator")
    for path, name in ((f"/assignments/{site.assignment_id}", "work-order"), (f"/cases/{site.case_id}", "case")):
        pdf = _printed(page, site, path, name)
        assert pdf.startswith(b"%PDF-")
        pages = _pages(pdf)
        assert pages and all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in pages), pages
        assert len(pages) <= 4, f"{path} takes {len(pages)} pages"
    # The screen is untouched: the navigation and the actions are there.
    page.goto(site.base + f"/assignments/{site.assignment_id}")
    assert page.locator("nav.main-nav").is_visible()
