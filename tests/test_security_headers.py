"""Security headers on every answer (services/api/security_headers.py), and pages that need no inline code.

The TestClient tests run on SQLite and PostgreSQL; the two browser tests check that
Chromium really enforces the policy and that Swagger UI still works under it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import test_browser
from tests.factories import World
from tests.test_attachments import pdf_bytes, upload
from tests.test_browser import Site, login
from tests.test_pages import browser

# The browser tests' fixtures: Chromium and the app under uvicorn (tests/test_browser.py).
playwright, chromium, site = test_browser.playwright, test_browser.chromium, test_browser.site

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"script-src", "style-src", "default-src", "img-src", "connect-src", "font-src", "object-src"}


def policy(response: Any) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    header = response.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def assert_secure(response: Any) -> dict[str, list[str]]:
    assert response.headers["x-content-type-options"] == "nosniff", response.request.url
    assert response.headers["referrer-policy"] in ("same-origin", "strict-origin-when-cross-origin")
    assert response.headers["x-frame-options"] == "DENY"
    csp = policy(response)
    assert csp["frame-ancestors"] == ["'none'"] or csp.get("sandbox") is not None, csp
    for directive in SOURCES & csp.keys():
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive], csp
        assert not any(s.startswith(("http:", "https:", "*")) or "." in s and not s.startswith("'")
                       for s in csp[directive]), csp  # nothing from another host
    return csp


def test_every_kind_of_answer_carries_the_headers(app: Any, api: Any, world: World, make_case, dispatch) -> None:  # type: ignore[no-untyped-def]
    a = dispatch(make_case(shared=("XFXH",)), "XFXH")
    anonymous = TestClient(app, follow_redirects=False)
    liaison = browser(app, world.liaison("XFXH"))
    answers = {
        "login page": anonymous.get("/login"),
        "redirect to sign in": anonymous.get("/queue"),
        "stylesheet": anonymous.get("/static/pages.css"),
        "queue page": liaison.get("/queue"),
        "assignment page": liaison.get(f"/assignments/{a.id}"),
        "page 404": liaison.get("/assignments/999999"),
        "form refused (403)": liaison.post(f"/assignments/{a.id}/accept", data={"version": "1"}),
        "API list": api.as_user(world.liaison("XFXH")).get("/api/v1/queue"),
        "API 401": anonymous.get("/api/v1/queue"),
        "API 404": anonymous.get("/api/v1/no-such-thing"),
        "OpenAPI": anonymous.get("/api/v1/openapi.json"),
        "docs": anonymous.get("/api/v1/docs"),
        "docs asset": anonymous.get("/api/v1/docs/assets/swagger-ui.css"),
    }
    assert answers["queue page"].status_code == 200 and answers["API 401"].status_code == 401
    assert answers["page 404"].status_code == 404 and answers["form refused (403)"].status_code == 403
    pages = ("login page", "redirect to sign in", "queue page", "assignment page", "page 404", "form refused (403)")
    for name in pages:
        assert answers[name].headers["cache-control"] == "no-store", name  # a page is never kept by a browser
    for name, response in answers.items():
        csp = assert_secure(response)
        if response.headers.get("content-type", "").startswith("application/json"):
            assert csp["default-src"] == ["'none'"], name  # JSON is never rendered: it may load nothing
        elif name != "docs":
            assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], name


def test_a_page_or_api_call_that_fails_unexpectedly_still_carries_them(app: Any) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    app.router.add_api_route("/boom", boom)
    app.router.add_api_route("/api/v1/boom", boom)
    client = TestClient(app, raise_server_exceptions=False)
    page, api = client.get("/boom"), client.get("/api/v1/boom")
    assert page.status_code == api.status_code == 500
    assert "服务器内部错误" in page.text and "boom" not in page.text
    assert api.json()["error"]["code"] == "internal_error"
    assert_secure(page)
    assert policy(api)["default-src"] == ["'none'"]
    assert page.headers["cache-control"] == "no-store"


def test_an_answer_with_its_own_policy_keeps_it(api: Any, world: World, make_case) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    client = api.as_user(world.coordinator)
    body = upload(client, f"/api/v1/cases/{case.id}/attachments", "调解协议.pdf", pdf_bytes()).json()
    got = client.get(body["download_url"])
    assert got.status_code == 200
    csp = assert_secure(got)
    assert "sandbox" in csp and csp["default-src"] == ["'none'"]  # the upload's own policy, not the page one
    assert got.headers.get_list("content-security-policy") == [got.headers["content-security-policy"]]


def test_the_docs_page_allows_exactly_its_own_inline_script(app: Any) -> None:
    client = TestClient(app)
    for path in ("/api/v1/docs", "/api/v1/docs/oauth2-redirect"):
        r = client.get(path)
        scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
        assert len(scripts) == 1, path
        digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
        assert policy(r)["script-src"] == ["'self'", f"'sha256-{digest}'"], path
        assert_secure(r)


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_page_template_has_inline_script_or_style() -> None:
    """What the policy would block: kept out of the templates, so nothing on a page silently breaks."""
    templates = sorted((ROOT / "templates" / "pages").rglob("*.html"))
    assert len(templates) >= 8
    found = [f"{t.relative_to(ROOT)}: {kind}" for t in templates for kind, pattern in INLINE.items()
             if pattern.search(t.read_text())]
    assert found == []


def test_the_inline_check_finds_what_it_looks_for() -> None:
    """A control for the scan above."""
    for sample in ('<script>alert(1)</script>', '<p style="color:red">', '<style>p{}</style>',
                   '<a href="#" onclick="x()">', '<a href="javascript:x()">'):
        assert any(p.search(sample) for p in INLINE.values()), sample
    assert not any(p.search('<script src="/static/x.js"></script><p class="x">') for p in INLINE.values())


# ------------------------------------------------------------------ in Chromium

@pytest.fixture
def tab(chromium: Any) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def test_chromium_blocks_inline_script_and_framing_on_a_page(tab: Any, site: Site) -> None:
    login(tab, site, "liaison_xfxh")
    violations: list[str] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    # Script added by an injection (here by DevTools, which the policy does not govern) does not run.
    ran = tab.evaluate("""() => new Promise(done => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.body.appendChild(s);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.injected = true');
        img.src = '/no-such-image';
        document.body.appendChild(img);
        setTimeout(() => done(window.injected === true), 300);
    })""")
    assert ran is False
    assert violations, "Chromium should report the blocked inline script"
    # Framed by another page, no page of ours is drawn (the frame holds Chromium's error page instead).
    framer = tab.context.new_page()
    framer.set_content(f'<iframe src="{site.base}/login" title="x"></iframe>')
    framer.wait_for_timeout(800)
    assert len(framer.frames) == 2
    assert framer.frames[1].locator(".brand").count() == 0


def test_swagger_ui_works_under_the_policy(tab: Any, site: Site) -> None:
    problems: list[str] = []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.set_default_timeout(30_000)  # a 1.5 MB script and the first OpenAPI build, on a busy machine
    tab.goto(site.base + "/api/v1/docs")
    tab.locator(".swagger-ui .info .title").wait_for()
    tab.locator(".opblock").first.wait_for()
    assert tab.locator(".opblock").count() > 10
    # Open one operation: its parameters and the "Try it out" button render (React, no inline code).
    tab.locator(".opblock-summary").first.click()
    tab.get_by_role("button", name="Try it out").first.wait_for()
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
