"""The weekly summary's artefacts as a reader gets them: the email (and in Chromium), the Word and Excel files.

The reports are built by hand (tests/report_samples.py), so every figure a test
looks for is known.  The Word and Excel files are opened with python-docx and
openpyxl; the email is drawn by Debian's Chromium and a screenshot is kept
(in GONGZHI_SCREENSHOT_DIR when set, else in pytest's temporary folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from zipfile import ZipFile

import pytest
from docx import Document
from openpyxl import load_workbook

from shared.reports.render import render_docx, render_email, render_xlsx
from shared.reports.render.batch import Artefacts, Job, RenderStats, render_many
from shared.reports.render.email import BAR_PX
from shared.reports.render.suggestions import suggestions
from shared.reports.render.xlsx import display_width
from tests.conftest import missing_service
from tests.report_samples import head_report, local, quiet_report, report_rows, weekly_report

BASE = "https://gongzhi.gov.example"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
HAN = re.compile(r"[\u4e00-\u9fff]")


class _Assets(HTMLParser):
    """Every tag, and every attribute that would make a mail client fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.fetches: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "srcset", "background", "poster", "data"):
                self.fetches.append(f"{tag}[{name}]={value}")
            if name == "href":
                self.hrefs.append(value or "")
            if name == "style" and value and "url(" in value:
                self.fetches.append(f"{tag}[style]={value}")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- email


def test_email_subject_names_the_week_and_the_exceptions_come_before_the_table() -> None:
    mail = render_email(weekly_report(), language="zh-CN", base_url=BASE + "/")
    assert mail.subject == "【周报】2026年第48周（11月23日—11月29日）执法协作情况"
    text = _text(mail.html)
    order = [text.index(heading) for heading in (
        "需要关注", "超期未反馈任务（9项）", "各部门按时反馈排名", "近8周趋势", "典型案例与突出成效", "重复投诉")]
    assert order == sorted(order)
    exceptions, league = order[0], order[2]
    head = text[exceptions:league]
    # The three red departments and the two yellow ones, red first, each with why.
    assert head.index("商务局") < head.index("市场监督管理局") < head.index("文化广电旅游局") < head.index("消费者协会")
    assert "按时反馈率低于80%；有事项超期超过3个工作日" in head
    assert "按时反馈率62.5%（10/16），超期未反馈4项，最长超期7个工作日" in head
    # The overdue list: longest first, with the owner (or the lack of one) and working days.
    assert head.index("7个工作日 GZ-2026-000001") < head.index("5个工作日 GZ-2026-000002")
    assert "王建国" in head and "未指定承办人" in head
    assert "公安局" not in head  # green
    assert "本周到期任务55项，按时反馈率78.2%，较上周下降10.5个百分点；超期未反馈9项；3个部门亮红灯。" in text


def test_email_links_go_back_to_the_pages_and_nothing_is_fetched_from_anywhere() -> None:
    for language in ("zh-CN", "en"):
        html = render_email(weekly_report(), language=language, base_url=BASE).html
        parsed = _Assets()
        parsed.feed(html)
        assert parsed.fetches == []
        assert not parsed.tags & {"img", "script", "style", "link", "iframe", "object", "svg", "video"}
        assert parsed.hrefs and all(h.startswith(BASE + "/") for h in parsed.hrefs), parsed.hrefs
        assert f"{BASE}/reports/2026-W48" in parsed.hrefs
        assert f"{BASE}/assignments/501" in parsed.hrefs and f"{BASE}/cases/1001" in parsed.hrefs
        assert f"{BASE}/queue?department_id=1&amp;bucket=overdue" in html


def test_email_in_english() -> None:
    mail = render_email(weekly_report(), language="en", base_url=BASE)
    assert mail.subject == "[Weekly report] Enforcement coordination, Week 48, 2026 (23 Nov – 29 Nov)"
    text = _text(mail.html)
    assert text.index("Needs attention") < text.index("League table") < text.index("The last 8 weeks")
    assert "On-time feedback rate below 80%. Work overdue by more than 3 working days" in text
    assert "7 working days" in text and "1 working day " in text
    assert "on-time feedback rate 78.2%, down 10.5 points on last week" in text
    # Department and case names stay as written; the labels are English.
    assert "市场监督管理局" in text and "需要关注" not in text and "红灯" not in text


def test_email_text_part_says_the_same_in_the_same_order() -> None:
    text = render_email(weekly_report(), language="zh-CN", base_url=BASE).text
    assert "<" not in text and "&amp;" not in text
    assert text.index("== 需要关注 ==") < text.index("== 各部门按时反馈排名 ==") < text.index("== 近8周趋势 ==")
    assert "[红灯] 市场监督管理局：按时反馈率低于80%；有事项超期超过3个工作日" in text
    assert "* 7个工作日 · GZ-2026-000001 鼓楼区美容美发会员卡卷款跑路" in text
    assert "应反馈时间 2026-11-17（周二）17:30" in text  # local time, not UTC 09:30
    assert f"{BASE}/assignments/501" in text


def test_a_heads_section_says_so_and_keeps_the_whole_league_table() -> None:
    mail = render_email(head_report("SCJG"), language="zh-CN", base_url=BASE)
    assert mail.subject == "【周报】2026年第48周（11月23日—11月29日）执法协作情况（市场监督管理局）"
    text = _text(mail.html)
    assert "执法协作情况周报（市场监督管理局）" in text
    assert "本周报为市场监督管理局部分" in text
    head = text[text.index("需要关注"):text.index("各部门按时反馈排名")]
    assert "市场监督管理局" in head and "商务局" not in head  # its own exceptions only
    assert "GZ-2026-000001" in head and "GZ-2026-000003" not in head
    league = text[text.index("各部门按时反馈排名"):text.index("近8周趋势")]
    for name in ("公安局", "城市管理综合执法局", "商务局", "体育局"):
        assert name in league
    assert "市场监督管理局 （本部门）" in league


def test_a_week_with_nothing_due_says_so_instead_of_a_rate() -> None:
    mail = render_email(quiet_report(), language="zh-CN", base_url=BASE)
    text = _text(mail.html)
    assert "本周没有到期应反馈的任务；超期未反馈0项；0个部门亮红灯。" in text
    assert "本周各部门均达标，没有超期未反馈的任务。" in text
    assert "无到期任务" in text
    for junk in ("None", "nan", "0%（0/0）"):
        assert junk not in text


def test_a_week_still_running_says_as_of_when() -> None:
    so_far = weekly_report().model_copy(update={"complete": False, "generated_at": local(26, 15, 0)})
    mail = render_email(so_far, language="zh-CN", base_url=BASE)
    assert mail.subject.endswith("执法协作情况（本周截至目前）")
    assert "本周尚未结束，数据截至2026-11-26（周四）15:00。" in _text(mail.html)
    body = "\n".join(p.text for p in _docx(render_docx(so_far, language="zh-CN")).paragraphs)
    assert "截至2026-11-26（周四）15:00，超期未反馈任务9项" in body


# ---------------------------------------------------------------- Word


def _docx(data: bytes) -> Any:
    return Document(BytesIO(data))


def test_word_file_has_the_six_sections_in_order_and_a_row_per_department() -> None:
    doc = _docx(render_docx(weekly_report(), language="zh-CN"))
    paragraphs = doc.paragraphs
    assert paragraphs[0].style.name == "Title" and paragraphs[0].text == "执法协作情况周报"
    assert paragraphs[1].text == "2026年第48周（11月23日—11月29日）"
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == [
        "一、总体情况", "二、各部门反馈情况", "三、超期未反馈事项", "四、群众满意度与回访情况", "五、典型案例",
        "六、下一步工作建议"]
    body = "\n".join(p.text for p in paragraphs)
    assert ("到期应反馈任务55项，按时反馈43项（其中经批准延期后按时反馈3项），"
            "按时反馈率78.2%，较上周下降10.5个百分点。") in body
    assert "退单6次（其中不属于本部门职责3次、不属于本辖区3次），退单率9.8%；二次退单2项。" in body
    assert "满意率78.9%，较上周下降10.5个百分点" in body

    league, overdue, callbacks = doc.tables
    assert [c.text for c in league.rows[0].cells][:5] == ["序号", "部门", "到期任务", "按时反馈", "按时反馈率"]
    assert [row.cells[1].text for row in league.rows[1:]] == [
        "公安局", "城市管理综合执法局", "消费者协会", "卫生健康委员会", "文化广电旅游局", "市场监督管理局", "商务局",
        "体育局"]
    scjg = [c.text for c in league.rows[6].cells]
    assert scjg == ["6", "市场监督管理局", "16", "10", "62.5%", "↓18.8", "4", "7", "红灯"]
    assert league.rows[8].cells[4].text == "无到期任务"
    assert len(overdue.rows) == 1 + 9
    assert [c.text for c in overdue.rows[1].cells] == [
        "1", "GZ-2026-000001", "鼓楼区美容美发会员卡卷款跑路", "市场监督管理局", "王建国", "2026-11-17 17:30", "7"]
    assert len(callbacks.rows) == 1 + 5  # the departments that made callbacks

    suggestions_at = next(n for n, p in enumerate(paragraphs) if p.text == "六、下一步工作建议")
    advice = [p.text for p in paragraphs[suggestions_at + 1:] if p.text.startswith("（")]
    assert advice[0].startswith("（一）文化广电旅游局（66.7%）、市场监督管理局（62.5%）、商务局（50%）"
                                "按时反馈率低于80%")
    assert any("市场监督管理局（最长7个工作日）、商务局（最长4个工作日）有任务超期超过3个工作日" in a for a in advice)
    assert any("GZ-2026-000001“鼓楼区美容美发会员卡卷款跑路”（市场监督管理局，已超期7个工作日）" in a for a in advice)
    assert any("2项任务被二次退单" in a for a in advice)
    assert any("预付式消费类新增案件9件（较上周增加5件）" in a for a in advice)


def test_word_file_names_its_chinese_fonts_and_prints_on_a4() -> None:
    data = render_docx(weekly_report(), language="zh-CN")
    doc = _docx(data)
    section = doc.sections[0]
    assert [round(x.mm) for x in (section.page_width, section.page_height)] == [210, 297]
    assert [round(x.mm) for x in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]
    with ZipFile(BytesIO(data)) as z:
        styles = z.read("word/styles.xml").decode()
        fonts = z.read("word/fontTable.xml").decode()
        footer = next(z.read(n).decode() for n in z.namelist() if n.startswith("word/footer"))
    # A theme font would win over the named one, and the template's theme is Japanese.
    assert "eastAsiaTheme" not in styles
    assert re.search(r'w:styleId="Normal".*?w:eastAsia="仿宋"', styles, re.S)
    assert re.search(r'w:styleId="Heading1".*?w:eastAsia="黑体"', styles, re.S)
    assert re.search(r'<w:docDefaults>.*?w:eastAsia="宋体"', styles, re.S)
    for face in ("仿宋", "黑体", "宋体"):
        assert re.search(rf'<w:font w:name="{face}">.*?<w:charset w:val="86"/>', fonts, re.S), face
    assert "PAGE" in footer and "— " in footer


def test_word_file_in_english_and_for_a_quiet_week() -> None:
    doc = _docx(render_docx(weekly_report(), language="en"))
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == [
        "1. Overview", "2. Feedback by department", "3. Overdue without feedback", "4. Satisfaction and callbacks",
        "5. Typical cases", "6. Suggestions for the coming week"]
    quiet = _docx(render_docx(quiet_report(), language="zh-CN"))
    body = "\n".join(p.text for p in quiet.paragraphs)
    assert "本周没有到期应反馈的任务，不计算按时反馈率。" in body
    assert "没有超期未反馈的任务" in body and "本周未开展回访。" in body
    assert "（一）本周各部门按期反馈，未发现突出问题，请继续保持。" in body
    assert len(quiet.tables) == 1 and len(quiet.tables[0].rows) == 1 + 8


def test_a_heads_word_file_says_whose_section_it_is() -> None:
    doc = _docx(render_docx(head_report("SWJ"), language="zh-CN"))
    assert doc.paragraphs[0].text == "执法协作情况周报（商务局）"
    league = doc.tables[0]
    own = next(row for row in league.rows if row.cells[1].text == "商务局")
    assert all(run.bold for run in own.cells[1].paragraphs[0].runs)
    assert len(league.rows) == 1 + 8
    advice = [p.text for p in doc.paragraphs if p.text.startswith("（") and "按时反馈率低于" in p.text]
    assert advice and all("市场监督管理局" not in a for a in advice)  # speaks of its own department


# ---------------------------------------------------------------- many at once


def _contents(artefacts: Artefacts) -> tuple[str, str, list[list[list[Any]]]]:
    """What a reader sees in each file (zip entries carry write times, so not the bytes)."""
    words = "\n".join(p.text for p in _docx(artefacts.docx).paragraphs)
    book = load_workbook(BytesIO(artefacts.xlsx))
    cells = [[[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets]
    return artefacts.email.html, words, cells


def test_a_pool_of_processes_renders_what_this_process_renders() -> None:
    """The weekly job renders its sections in worker processes when the week is large; each
    email, Word file and workbook must be the same as one rendered here, in the jobs' order."""
    jobs = [("all", Job(weekly_report(), report_rows(), "zh-CN")), ("head", Job(head_report(), report_rows(), "en")),
            ("quiet", Job(quiet_report(), report_rows(), "zh-CN"))]
    here = RenderStats()
    alone = list(render_many(jobs, base_url="https://gongzhi.example", timezone="Asia/Shanghai", processes=1,
                             parallel_rows=0, stats=here))
    pooled = RenderStats()
    together = list(render_many(jobs, base_url="https://gongzhi.example", timezone="Asia/Shanghai", processes=2,
                                parallel_rows=0, stats=pooled))
    assert here.processes == 1 and pooled.processes == 2
    assert [k for k, _a in together] == ["all", "head", "quiet"]
    for (_k, a), (_k2, b) in zip(alone, together, strict=True):
        assert _contents(a) == _contents(b)
    assert "Weekly" in together[1][1].email.subject and "周报" in together[0][1].email.subject
    assert len(pooled.sets) == 3 and pooled.cpu_s > 0 and pooled.peak_rss_mb > 0


def test_a_small_week_renders_in_this_process() -> None:
    stats = RenderStats()
    jobs = [("all", Job(weekly_report(), report_rows(), "zh-CN")), ("head", Job(head_report(), report_rows(), "zh-CN"))]
    list(render_many(jobs, base_url="https://gongzhi.example", timezone="Asia/Shanghai", processes=2,
                     parallel_rows=10_000, stats=stats))
    assert stats.processes == 1 and len(stats.sets) == 2


# ---------------------------------------------------------------- Excel


def _xlsx(language: str = "zh-CN") -> Any:
    return load_workbook(BytesIO(render_xlsx(weekly_report(), report_rows(), language=language)))


def test_excel_sheets_headers_frozen_rows_and_real_values() -> None:
    wb = _xlsx()
    assert wb.sheetnames == ["总体指标", "各部门", "近8周趋势", "到期任务", "超期未反馈", "回访记录"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws["A1"].font.bold
    figures = wb["总体指标"]
    assert [c.value for c in figures[1]] == ["指标", "本周", "上周", "较上周"]
    rate = next(row for row in figures.iter_rows(min_row=2) if row[0].value == "按时反馈率")
    assert rate[1].value == pytest.approx(43 / 55) and rate[1].number_format == "0.0%"
    assert rate[2].value == pytest.approx(47 / 53) and rate[3].value == "↓10.5个百分点"
    fines = next(row for row in figures.iter_rows(min_row=2) if row[0].value == "罚没款（元）")
    assert fines[1].value == 90000 and fines[1].number_format == "#,##0.00"

    league = wb["各部门"]
    header = [c.value for c in league[1]]
    assert header[:4] == ["排名", "部门", "等级", "原因"]
    row = next(r for r in league.iter_rows(min_row=2) if r[1].value == "市场监督管理局")
    scjg = {header[n]: c for n, c in enumerate(row)}
    assert scjg["按时反馈率"].value == 0.625 and scjg["按时反馈率"].number_format == "0.0%"
    assert scjg["最长超期（工作日）"].value == 7 and scjg["等级"].value == "红灯"
    assert league.max_row == 1 + 8

    due = wb["到期任务"]
    assert due.max_row == 1 + 55
    assert [c.value for c in due[1]][:5] == ["任务编号", "案件编号", "案件名称", "部门", "状态"]
    overdue = wb["超期未反馈"]
    first = [c.value for c in overdue[2]]
    # Due Tuesday 17 November 17:30 in Shanghai: a real datetime, local wall time.
    assert first[:5] == [501, "GZ-2026-000001", "鼓楼区美容美发会员卡卷款跑路", "市场监督管理局", "王建国"]
    assert first[6] == datetime(2026, 11, 17, 17, 30) and overdue.cell(2, 7).number_format == "yyyy-mm-dd hh:mm"
    assert first[7] == 7
    callbacks = wb["回访记录"]
    assert [c.value for c in callbacks[3]][4:8] == ["是", 2, "不满意", "否"]


def test_excel_columns_are_wide_enough_for_chinese_text() -> None:
    ws = _xlsx()["超期未反馈"]
    titles = [ws.cell(r, 3).value for r in range(1, ws.max_row + 1)]
    widest = max(display_width(t) for t in titles)
    assert widest == 2 * len("鼓楼区美容美发会员卡卷款跑路")
    assert ws.column_dimensions["C"].width >= widest
    assert ws.column_dimensions["G"].width >= len("2026-11-17 17:30")


def test_excel_in_english() -> None:
    wb = _xlsx("en")
    assert wb.sheetnames == ["Figures", "Departments", "Trend", "Due", "Overdue", "Callbacks"]
    assert [c.value for c in wb["Figures"][1]] == ["Figure", "This week", "Last week", "Change"]


# ---------------------------------------------------------------- suggestions


def test_suggestions_say_what_the_figures_say() -> None:
    said = suggestions(weekly_report(), "zh-CN")
    assert len(said) == 8
    below_red, too_long, below_yellow, longest, twice, satisfaction, categories, repeats = said
    assert below_red.startswith("文化广电旅游局（66.7%）、市场监督管理局（62.5%）、商务局（50%）按时反馈率低于80%")
    assert too_long.startswith("市场监督管理局（最长7个工作日）、商务局（最长4个工作日）有任务超期超过3个工作日")
    assert below_yellow.startswith("消费者协会（88.9%）、卫生健康委员会（85.7%）按时反馈率低于90%")
    assert longest.startswith("目前超期未反馈任务9项，超期最久的是GZ-2026-000001“鼓楼区美容美发会员卡卷款跑路”"
                              "（市场监督管理局，已超期7个工作日）")
    assert twice.startswith("本周有2项任务被二次退单")
    assert satisfaction.startswith("群众满意率为78.9%，较上周下降10.5个百分点")
    # 预付式消费 rose by 5; 其他 by 1, which is no rise worth naming.
    assert categories.startswith("预付式消费类新增案件9件（较上周增加5件），增幅较大")
    assert repeats.startswith("近4周有2家企业被重复投诉，包括福州市鼓楼区悦美美容美发有限公司（3件）")
    assert suggestions(quiet_report(), "en") == [
        "Every department reported back on time and nothing stands out; keep it up."]


def test_a_heads_suggestions_speak_of_its_own_department() -> None:
    said = suggestions(head_report("SWJ"), "zh-CN")
    assert said[0].startswith("商务局（50%）按时反馈率低于80%")
    assert not any("市场监督管理局" in s for s in said)


# ---------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("GONGZHI_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(("language", "sample"), [("zh-CN", weekly_report), ("en", head_report)])
def test_the_email_draws_in_chromium_without_fetching_anything(chromium: Any, shots: Path, language: str,
                                                               sample: Any) -> None:
    from tests.test_browser import chinese_renders

    html = render_email(sample(), language=language, base_url=BASE).html
    context = chromium.new_context(viewport={"width": 800, "height": 900}, locale=language)
    page = context.new_page()
    fetched: list[str] = []

    def offline(route: Any) -> None:
        fetched.append(route.request.url)
        route.abort("internetdisconnected")

    page.route("**/*", offline)
    try:
        page.set_content(html, wait_until="load")
        # Kept before the checks, so that a failure leaves the picture to look at.
        page.screenshot(path=shots / f"report-email-{language}.png", full_page=True)
        assert fetched == []
        # Fits a mail pane: nothing wider than the viewport.
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        assert chinese_renders(page, "h1")
        # The league bars are drawn to scale: 市场监督管理局 62.5% of an 80 px bar.
        widths = page.evaluate("""() => [...document.querySelectorAll('td[bgcolor="#b91c1c"][height="10"]')]
                                   .map(td => td.getBoundingClientRect().width)""")
        assert round(0.625 * BAR_PX) in [round(w) for w in widths]
    finally:
        context.close()
