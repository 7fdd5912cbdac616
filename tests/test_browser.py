"""The pages in a real browser: Debian's Chromium driven by Playwright against the real app.

The app runs under uvicorn in a thread, on a free 127.0.0.1 port, over a
temporary SQLite database (SQLite only: the TestClient tests in test_pages.py
cover PostgreSQL).  Its clock is frozen at an ordinary working Tuesday so that
deadlines and screenshots are the same on every run.

Screenshots go to a temporary folder, or to GONGZHI_SCREENSHOT_DIR when set
(``GONGZHI_SCREENSHOT_DIR=docs/screenshots`` refreshes the README's pictures).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlmodel import Session

import shared.models
from services.api.app import create_app
from services.api.deps import SESSION_COOKIE
from shared.assignments import service as assignments
from shared.assignments.schemas import DispatchIn
from shared.campaigns import service as campaigns
from shared.campaigns.service import CampaignIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from shared.db import make_engine
from shared.settings import Settings
from tests.conftest import DEFAULT_NOW, missing_service
from tests.factories import PASSWORD, build_world, case_input

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
HAN = re.compile(r"[\u4e00-\u9fff]")
T = TypeVar("T")


@dataclass
class Site:
    base: str
    assignment_id: int
    case_id: int
    shots: Path
    campaign_id: int = 0
    sessions: dict[str, list[Any]] = field(default_factory=dict)  # sign_in()'s, by username


def _seed(engine: Any, clock: FrozenClock) -> tuple[int, int, int]:
    """Six departments, a case shared with the consumer association, a few assignments of various ages,
    and a campaign the newer case belongs to."""
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, clock)
        coordinator = world.coordinator
        earlier = FrozenClock(clock.now() - timedelta(days=14))
        old = cases.create_case(s, earlier, coordinator, case_input(
            world, shared=("XFXH",), title="鼓楼区美容美发会员卡卷款跑路", category="预付式消费"))
        assignments.dispatch(s, earlier, coordinator, old.id, DispatchIn(  # type: ignore[arg-type]
            department_id=world.dept("XFXH").id, working_days=5, instructions="调解会员退费投诉"))
        campaign = campaigns.create(s, earlier, coordinator, CampaignIn(
            name="守护安全消费，提振消费信心", description="预付式消费专项整治",
            starts_on=earlier.now().date(), ends_on=(clock.now() + timedelta(days=30)).date()))
        case = cases.create_case(s, clock, coordinator, case_input(world, shared=("XFXH", "TYJ"),
                                                                   campaign_id=campaign.id))
        a = assignments.dispatch(s, clock, coordinator, case.id, DispatchIn(  # type: ignore[arg-type]
            department_id=world.dept("XFXH").id, working_days=5,
            instructions="组织调解会员退费投诉，统计挽回经济损失"))
        assignments.dispatch(s, clock, coordinator, case.id, DispatchIn(  # type: ignore[arg-type]
            department_id=world.dept("TYJ").id, working_days=3, instructions="核查体育经营许可"))
        s.commit()
        return a.id, case.id, campaign.id  # type: ignore[return-value]


@contextmanager
def serve(tmp: Path, seed: Callable[[Any, FrozenClock], T]) -> Iterator[tuple[str, Path, T]]:
    """The app under uvicorn on a free port over a SQLite file SEED filled: (base URL, screenshot folder, seeded)."""
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - a dependency of the project
        missing_service("uvicorn is not installed")
    url = f"sqlite:///{tmp / 'pages.db'}"
    engine = make_engine(url)
    shared.models.metadata.create_all(engine)
    clock = FrozenClock(DEFAULT_NOW)
    seeded = seed(engine, clock)
    app = create_app(Settings(demo=True, database_url=url, data_dir=tmp / "data"), engine=engine, clock=clock,
                     kick=lambda: True)  # no broker here; delivery is tested elsewhere
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start under uvicorn")
        time.sleep(0.05)
    shots = Path(os.environ.get("GONGZHI_SCREENSHOT_DIR") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield f"http://127.0.0.1:{port}", shots, seeded
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        engine.dispose()
        if not os.environ.get("GONGZHI_SCREENSHOT_DIR"):
            shutil.rmtree(shots, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("browser"), _seed) as (base, shots, (assignment_id, case_id, campaign_id)):
        yield Site(base=base, assignment_id=assignment_id, case_id=case_id, shots=shots, campaign_id=campaign_id)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright: Any) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def login(page: Any, site: Site, username: str, path: str = "/") -> None:
    page.goto(site.base + path)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def sign_in(page: Any, site: Any, username: str, path: str = "/") -> None:
    """login() the first time USERNAME signs in on SITE's server; a later tab gets that session's cookie.

    For tests where signing in is only the way in: the form costs an argon2 hash and three page
    loads, over a second on the CI machine, and those tests sign in some forty times.  SITE is any
    of the browser tests' servers with a `sessions` dict."""
    cookies = site.sessions.get(username)
    if cookies is None:
        login(page, site, username, path)
        site.sessions[username] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        assert site.sessions[username], f"{username} is not signed in"
        return
    page.context.add_cookies(cookies)
    page.goto(site.base + path)


def logout(page: Any) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")


def fonts_used(page: Any, selector: str) -> list[dict[str, Any]]:
    """The platform fonts Chromium really used to draw the element's text (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, Any]] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return fonts


# Draws a few Han characters and a code point no font has, in the body's font:
# tofu boxes all look alike, real glyphs differ.  (DevTools evaluation is not
# subject to the page's script-src 'none'.)
DISTINCT_GLYPHS = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    const c = document.createElement('canvas'); c.width = 40; c.height = 40;
    const x = c.getContext('2d'); x.font = '32px ' + font; x.fillText(ch, 2, 32);
    return c.toDataURL();
  };
  const missing = draw('\\u{10FFFD}');
  const glyphs = ['共', '治', '协', '同'].map(draw);
  return new Set(glyphs).size === glyphs.length && !glyphs.includes(missing);
}"""


def chinese_renders(page: Any, selector: str = "h1") -> bool:
    """True when a CJK font drew every Han character of SELECTOR and glyphs are not tofu."""
    han = len(HAN.findall(page.locator(selector).first.inner_text()))
    fonts = fonts_used(page, selector)
    cjk = sum(f["glyphCount"] for f in fonts if "CJK" in f["familyName"] or "Han" in f["familyName"])
    return han > 0 and cjk >= han and bool(page.evaluate(DISTINCT_GLYPHS))


def test_liaison_accepts_and_reports_then_coordinator_approves(page: Any, site: Site) -> None:
    path = f"/assignments/{site.assignment_id}"
    # The liaison follows the link of a reminder email: sign-in first, then the assignment.
    login(page, site, "liaison_xfxh", path)
    assert page.url.endswith(path)
    page.goto(site.base + "/queue")
    assert page.get_by_role("heading", name="消费者协会 工作台").is_visible()
    assert page.locator(".bucket-to_accept .count").inner_text() == "2"
    assert page.locator(".bucket-overdue .count").inner_text() == "1"
    page.screenshot(path=site.shots / "queue-liaison.png")

    page.get_by_role("link", name=f"#{site.assignment_id}").click()
    page.wait_for_url(f"**{path}")
    # Dispatched Tue 2026-12-01 10:00 Shanghai, 5 working days: due Tue 12-08 17:30 local.
    assert "2026-12-08（周二）17:30" in page.locator("dl.facts").first.inner_text()
    page.get_by_role("button", name="签收").click()
    page.wait_for_load_state()
    assert "已签收" in page.get_by_role("status").inner_text()
    assert page.locator(".head-state .state").inner_text() == "办理中"

    page.get_by_label("办理情况（必填）").fill("组织双方调解，会员退费 12 人，挽回损失 3.6 万元。")
    page.get_by_label("调解投诉（件）").fill("12")
    page.get_by_label("挽回经济损失（元）").fill("36,000")
    page.get_by_role("button", name="提交反馈").click()
    page.wait_for_load_state()
    assert "反馈已提交" in page.get_by_role("status").inner_text()
    assert page.locator(".head-state .state").inner_text() == "待审核"
    assert "36,000.00" in page.locator(".feedback").inner_text()
    page.screenshot(path=site.shots / "assignment-submitted.png", full_page=True)
    logout(page)

    login(page, site, "coordinator", path)
    assert page.get_by_label("意见（选填）").first.is_visible()
    page.get_by_label("意见（选填）").first.fill("调解到位，同意办结")
    page.get_by_role("button", name="审核通过").click()
    page.wait_for_load_state()
    assert "任务办结" in page.get_by_role("status").inner_text()
    assert page.locator(".head-state .state").inner_text() == "已办结"
    assert "审核通过" in page.locator(".review").inner_text()
    page.screenshot(path=site.shots / "assignment-approved.png")

    page.goto(site.base + f"/cases/{site.case_id}")
    timeline = page.locator(".timeline").inner_text()
    for step in ("派发任务", "签收", "提交反馈", "审核通过"):
        assert step in timeline
    assert "张三" in page.locator("section", has_text="投诉人信息").inner_text()  # coordinator: in full
    page.screenshot(path=site.shots / "case-coordinator.png")


def test_chinese_renders_with_a_cjk_font_not_tofu(page: Any, site: Site) -> None:
    login(page, site, "liaison_tyj")
    assert len(HAN.findall(page.locator("h1").inner_text())) >= 4
    assert chinese_renders(page, "h1"), fonts_used(page, "h1")
    assert chinese_renders(page, "table.list th")
    page.screenshot(path=site.shots / "queue-sports.png")


def test_the_tofu_check_fails_when_no_cjk_font_is_installed(playwright: Any, site: Site,
                                                            tmp_path: Path) -> None:
    """A control: the same check on a Chromium that only sees DejaVu must say "tofu"."""
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("no DejaVu fonts to build the font-less control with")
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?><fontconfig><dir>{dejavu}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    bare = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      env={**os.environ, "FONTCONFIG_FILE": str(config)})
    try:
        pg = bare.new_page()
        pg.goto(site.base + "/login")
        assert not chinese_renders(pg, "h1")
    finally:
        bare.close()


def test_shared_department_sees_masked_complainant_in_the_browser(page: Any, site: Site) -> None:
    login(page, site, "liaison_tyj", f"/cases/{site.case_id}")
    box = page.locator("section", has_text="投诉人信息").inner_text()
    assert "张*" in box and "138****5678" in box and "张三" not in box
    page.screenshot(path=site.shots / "case-masked.png")


def test_api_docs_render_on_a_network_without_internet(page: Any, site: Site) -> None:
    """Every request to another host fails, as on a government intranet; Swagger UI still shows the API."""
    elsewhere: list[str] = []

    def offline(route: Any) -> None:
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", offline)
    page.set_default_timeout(30_000)  # a 1.5 MB script and the first OpenAPI build, on a busy machine
    page.goto(site.base + "/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "共治 Gongzhi API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
    assert elsewhere == []
