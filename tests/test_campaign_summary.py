"""活动总结: a campaign built through the real use cases, its figures, the Word draft
opened and read back, who may download it, the page and the CLI.

The campaign (clock starts Tuesday 2026-12-01 10:00 Shanghai; summary drafted
Tuesday 2026-12-15, after the campaign ended on Friday 2026-12-11):

- A  12315 热线, 预付式消费, enterprise X, typical: 体育局 answers on time with
  outcomes; approved; case closed; callback reached, unsatisfied, unresolved.
- B  12315 热线, 预付式消费, enterprise X again: 公安局 accepts and never answers
  (due Thursday 12-03, 8 working days overdue when drafted).
- C  网络平台, 食品安全: 卫生健康委员会 returns it twice, the coordinator decides
  it is theirs after all; they answer late; approved.
- D  媒体曝光, 食品安全, led by 消费者协会: 体育局 answers after the original due
  time but within an approved extension; approved.
- E  部门移送, 预付式消费: registered, nothing dispatched.
- One joint inspection held (消费者协会 + 公安局, closed by its lead), one cancelled.

商务局 takes no part.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.api.deps import SESSION_COOKIE
from services.cli import app as cli_app
from shared.assignments import service as assignments
from shared.assignments.models import ReturnReason
from shared.assignments.schemas import DispatchIn, ExtensionIn, FeedbackIn, RedispatchIn, ReturnIn
from shared.callbacks import service as callbacks
from shared.callbacks.schemas import CallbackIn
from shared.campaigns import service as campaigns
from shared.campaigns.service import CampaignIn
from shared.cases import service as cases
from shared.cases.models import Case
from shared.cases.schemas import CaseUpdate
from shared.clock import FrozenClock
from shared.errors import Forbidden, NotFound
from shared.inspections import service as inspections
from shared.inspections.schemas import InspectionCreate
from shared.reports import campaign as report
from shared.reports.model import Level
from shared.reports.render import campaign_docx
from shared.settings import Settings
from shared.users import service as users
from shared.users.models import User
from tests.factories import World, case_input, credit_code
from tests.relay_kicks import counting_kicks

DRAFTED_AT = datetime(2026, 12, 15, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
HEADINGS = ["一、活动背景与目标", "二、活动组织与实施情况", "三、活动成效与亮点", "四、存在问题与不足",
            "五、未来工作建议与展望"]
X = credit_code("91320100MA1AAAAA0")
Y = credit_code("91320100MA1BBBBB0")
Z = credit_code("91320100MA1CCCCC0")


@pytest.fixture(autouse=True)
def _kicks() -> Iterator[None]:
    with counting_kicks():
        yield


class Built:
    def __init__(self, campaign_id: int, cases: dict[str, Case]) -> None:
        self.campaign_id = campaign_id
        self.case_ids = {key: c.id for key, c in cases.items()}
        self.refs = {key: c.reference for key, c in cases.items()}


@pytest.fixture
def built(session: Session, clock: FrozenClock, world: World) -> Built:
    coord = world.coordinator
    campaign = campaigns.create(session, clock, coord, CampaignIn(
        name="2026年预付式消费专项整治行动", description="聚焦健身、美容、教培等行业预付卡退费难问题。",
        starts_on=date(2026, 11, 16), ends_on=date(2026, 12, 11), lead_department_id=world.dept("SCJG").id))
    session.commit()
    cid = campaign.id

    def case(key: str, **fields: Any) -> Case:
        c = cases.create_case(session, clock, coord, case_input(world, campaign_id=cid, **fields))
        session.commit()
        return c

    a_case = case("A", title="某健身中心闭店预付卡退费难", enterprise_credit_code=X)
    b_case = case("B", title="某健身中心分店拒不退费", enterprise_credit_code=X)
    c_case = case("C", title="某外卖平台商户无证经营", source="online_platform", category="食品安全",
                  enterprise_name="某餐饮店", enterprise_credit_code=Y)
    d_case = case("D", title="媒体曝光某超市销售过期食品", source="media", category="食品安全",
                  lead="XFXH", enterprise_name="某超市", enterprise_credit_code=Z, complainant_name=None,
                  complainant_phone=None, complainant_id_number=None, complainant_address=None)
    case("E", title="某美容院预付卡纠纷移送", source="referral", enterprise_name=None, enterprise_credit_code=None)
    cases.update_case(session, clock, coord, a_case.id, a_case.version, CaseUpdate(is_typical=True))
    session.commit()

    def dispatch(c: Case, dept: str, days: int) -> Any:
        a = assignments.dispatch(session, clock, coord, c.id, DispatchIn(
            department_id=world.dept(dept).id, working_days=days, instructions="核查并反馈", parallel=True))
        session.commit()
        return a

    a = dispatch(a_case, "TYJ", 5)
    b = dispatch(b_case, "GAJ", 2)
    c = dispatch(c_case, "WJW", 3)
    d = dispatch(d_case, "TYJ", 2)

    held = inspections.schedule(session, clock, coord, InspectionCreate(
        case_id=d_case.id, title="超市食品安全联合检查", lead_department_id=world.dept("XFXH").id,
        participant_department_ids=[world.dept("GAJ").id], scheduled_on=date(2026, 12, 1)))
    session.commit()
    inspections.close(session, clock, coord, held.id, held.version, "现场检查完毕")
    dropped = inspections.schedule(session, clock, coord, InspectionCreate(
        case_id=a_case.id, title="健身中心回访检查", lead_department_id=world.dept("SCJG").id,
        scheduled_on=date(2026, 12, 2)))
    session.commit()
    inspections.cancel(session, clock, coord, dropped.id, dropped.version, "企业已闭店")
    session.commit()

    a = assignments.accept(session, clock, world.liaison("TYJ"), a.id, a.version)
    d = assignments.accept(session, clock, world.liaison("TYJ"), d.id, d.version)
    b = assignments.accept(session, clock, world.liaison("GAJ"), b.id, b.version)
    session.commit()

    wjw = world.liaison("WJW")
    c = assignments.return_assignment(session, clock, wjw, c.id, c.version,
                                      ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION))
    c = assignments.redispatch(session, clock, coord, c.id, c.version, RedispatchIn())
    c = assignments.return_assignment(session, clock, wjw, c.id, c.version,
                                      ReturnIn(reason=ReturnReason.UNCLEAR_OWNERSHIP))
    c = assignments.redispatch(session, clock, coord, c.id, c.version,
                               RedispatchIn(working_days=2, decision_note="经审定属卫生健康部门职责"))
    c = assignments.accept(session, clock, wjw, c.id, c.version)
    session.commit()

    ext = assignments.request_extension(session, clock, world.liaison("TYJ"), d.id, d.version,
                                        ExtensionIn(extra_working_days=3, reason="需等待检验报告"))
    session.commit()
    d = session.get(type(d), d.id)
    assignments.decide_extension(session, clock, coord, d.id, ext.id, d.version, approve=True, comment="同意")
    session.commit()

    clock.set(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # Monday 10:00
    tyj = world.liaison("TYJ")
    a = session.get(type(a), a.id)
    assignments.submit_feedback(session, clock, tyj, a.id, a.version, FeedbackIn(
        narrative="已督促退费，立案查处一起。", enterprises_inspected=3, problems_found=4, rectification_orders=2,
        cases_filed=1, fines_yuan=Decimal("5000"), losses_recovered_yuan=Decimal("12000")))
    d = session.get(type(d), d.id)
    assignments.submit_feedback(session, clock, tyj, d.id, d.version,
                                FeedbackIn(narrative="已检查门店两家。", enterprises_inspected=2))
    c = session.get(type(c), c.id)
    assignments.submit_feedback(session, clock, wjw, c.id, c.version,
                                FeedbackIn(narrative="已责令整改。", problems_found=1, rectification_orders=1))
    session.commit()
    for x in (a, c, d):
        x = session.get(type(x), x.id)
        assignments.approve(session, clock, coord, x.id, x.version, "同意")
    session.commit()
    a_case = session.get(Case, a_case.id)
    cases.close_case(session, clock, coord, a_case.id, a_case.version, "已办结")
    session.commit()
    callbacks.record_callback(session, clock, coord, a_case.id, CallbackIn(
        reached=True, attempts=1, satisfaction="unsatisfied", resolved=False, note="仍未全额退费"))
    session.commit()

    clock.set(DRAFTED_AT)
    return Built(cid, {"A": a_case, "B": b_case, "C": c_case})


def _figures(session: Session, clock: FrozenClock, user: Any, campaign_id: int) -> report.CampaignSummary:
    summary = report.summary(session, clock, user, campaign_id, Settings())
    session.commit()
    return summary


def test_the_figures_count_what_happened(session: Session, clock: FrozenClock, world: World, built: Built) -> None:
    s = _figures(session, clock, world.leader, built.campaign_id)
    assert s.ended and s.generated_at == DRAFTED_AT
    assert (s.cases.total, s.cases.closed, s.cases.open, s.cases.typical) == (5, 1, 4, 1)
    assert {k: v for k, v in s.cases.by_source.items() if v} == {
        "hotline_12315": 2, "online_platform": 1, "media": 1, "referral": 1}
    assert [(c.key, c.count) for c in s.cases.by_category] == [("预付式消费", 3), ("食品安全", 2)]
    assert (s.inspections.total, s.inspections.held, s.inspections.cancelled, s.inspections.departments) == (2, 1, 1, 2)

    f = s.feedback
    assert (f.assignments, f.due, f.on_time, f.on_time_by_extension, f.late, f.overdue_open) == (4, 4, 2, 1, 1, 1)
    assert f.on_time_feedback_rate.value == 0.5

    r = s.returns
    assert (r.returns, r.returned_items, r.returned_twice) == (2, 1, 1)
    assert r.by_reason["not_our_jurisdiction"] == r.by_reason["unclear_ownership"] == 1
    # 退单率 as in the weekly figures: returns / dispatches (7, inspection work included, and 2 redispatches).
    assert (r.dispatches, r.return_rate.numerator, r.return_rate.denominator) == (9, 2, 9)
    [returned] = s.returned_list
    assert returned.case_reference == built.refs["C"] and returned.returns == 2
    assert [d.code for d in returned.returned_by] == ["WJW"] and returned.last_reason == "unclear_ownership"

    cb = s.callbacks
    assert (cb.made, cb.reached, cb.satisfied, cb.unsatisfied, cb.resolved, cb.unresolved) == (1, 1, 0, 1, 0, 1)
    assert cb.satisfaction_rate.value == 0.0

    o = s.outcomes
    assert (o.enterprises_inspected, o.problems_found, o.rectification_orders, o.cases_filed) == (5, 5, 3, 1)
    assert (o.fines_yuan, o.losses_recovered_yuan) == (Decimal("5000.00"), Decimal("12000.00"))

    [overdue] = s.overdue_list
    assert overdue.case_reference == built.refs["B"] and overdue.department.code == "GAJ"
    assert overdue.working_days_overdue == 8  # Fri 12-04, 12-07…12-11, 12-14, 12-15

    [repeat] = s.repeat_complaints
    assert repeat.credit_code == X and [c.reference for c in repeat.cases] == [built.refs["A"], built.refs["B"]]
    assert [t.case.reference for t in s.typical_cases] == [built.refs["A"]]
    assert s.typical_cases[0].outcomes.fines_yuan == Decimal("5000.00")

    rows = {r.department.code: r for r in s.departments}
    assert set(rows) == {"SCJG", "XFXH", "TYJ", "GAJ", "WJW"}  # 商务局 took no part
    assert (rows["TYJ"].due, rows["TYJ"].on_time, rows["TYJ"].level) == (2, 2, Level.GREEN)
    assert rows["GAJ"].level == Level.RED and rows["GAJ"].max_working_days_overdue == 8
    assert rows["GAJ"].level_reasons == ["report.level.below_red", "report.level.overdue_too_long"]
    assert (rows["WJW"].late, rows["WJW"].returns_made, rows["WJW"].level) == (1, 2, Level.RED)
    assert rows["SCJG"].cases_led == 4 and rows["SCJG"].on_time_feedback_rate.value is None
    # Both red at 0 %: the longer overdue first.
    assert [r.department.code for r in s.below_floor] == ["GAJ", "WJW"]


def _paragraphs(content: bytes) -> tuple[Any, list[Any]]:
    doc = Document(io.BytesIO(content))
    return doc, [p for p in doc.paragraphs if p.text.strip()]


def _section(paragraphs: list[Any], heading: str) -> str:
    """The text between HEADING and the next level-one heading."""
    start = next(i for i, p in enumerate(paragraphs) if p.text == heading)
    end = next((i for i in range(start + 1, len(paragraphs)) if paragraphs[i].style.name == "Heading 1"),
               len(paragraphs))
    return "\n".join(p.text for p in paragraphs[start + 1:end])


def test_the_word_draft_has_the_five_parts_the_figures_and_places_for_the_author(
    session: Session, clock: FrozenClock, world: World, built: Built
) -> None:
    s = _figures(session, clock, world.coordinator, built.campaign_id)
    doc, paragraphs = _paragraphs(campaign_docx.render(s, "zh-CN"))

    assert paragraphs[0].text == "2026年预付式消费专项整治行动工作总结"
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == HEADINGS

    background = _section(paragraphs, HEADINGS[0])
    assert "由市场监督管理局牵头，活动时间为2026年11月16日至2026年12月11日" in background
    assert background.count("【待补充】") == 2

    organisation = _section(paragraphs, HEADINGS[1])
    assert "共有5个部门参与" in organisation and "商务局" not in organisation
    assert "共登记案件5件，其中已办结1件，尚在办理4件" in organisation
    assert "按来源分，12315 热线2件、网络平台1件、媒体曝光1件、部门移送1件。按类别分，预付式消费3件、食品安全2件。" \
        in organisation
    assert "组织联合检查2次，其中已完成1次" in organisation
    assert "应反馈4项，按时反馈2项，逾期反馈1项，超期未反馈1项" in organisation

    results = _section(paragraphs, HEADINGS[2])
    assert "罚没款5,000.00元" in results and "挽回经济损失12,000.00元" in results
    assert "按时反馈率50%（其中经批准延期后按时反馈1项）" in results
    assert "满意率0%" in results and "解决率0%" in results
    assert "某健身中心闭店预付卡退费难" in results  # the typical case
    assert "【待补充】案情简介" in results

    problems = _section(paragraphs, HEADINGS[3])
    assert re.search(r"公安局：按时反馈率低于80%；有事项超期超过3个工作日", problems), problems
    assert "卫生健康委员会：按时反馈率低于80%" in problems
    assert "体育局" not in problems  # always on time: not named as a weakness
    assert f"1项任务被退回两次及以上（{built.refs['C']}“某外卖平台商户无证经营”）" in problems
    assert "尚有1项任务超期未反馈，最长超期8个工作日" in problems
    assert "1项逾期后才反馈，涉及卫生健康委员会（1项）" in problems
    assert "1家企业在活动中被重复投诉" in problems
    assert "【待补充】" in problems

    suggestions = _section(paragraphs, HEADINGS[4])
    assert "1. 对公安局、卫生健康委员会加强督办通报" in suggestions
    # The weekly report's sentence on the longest overdue, reused.
    assert "2. 目前超期未反馈任务1项，超期最久的是" in suggestions
    assert "【待补充】" in suggestions

    tables = {t.rows[0].cells[0].text: t for t in doc.tables}
    by_dept = {row.cells[0].text: [c.text for c in row.cells] for row in tables["部门"].rows[1:]}
    assert by_dept["公安局"][5:] == ["0%", "1", "0", "红"]
    assert by_dept["体育局"][3:6] == ["2", "2", "100%"]
    overdue_or_returned = [t for t in doc.tables if t.rows[0].cells[0].text == "案件编号"]
    assert [r.cells[0].text for t in overdue_or_returned for r in t.rows[1:]] == [built.refs["B"], built.refs["C"]]

    # Formal layout: A4, and the Chinese face named for East Asian text, not left to a Latin theme font.
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    fonts = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋" and fonts.get(qn("w:eastAsiaTheme")) is None
    heading_fonts = doc.styles["Heading 1"].element.rPr.find(qn("w:rFonts"))
    assert heading_fonts.get(qn("w:eastAsia")) == "黑体"


def test_the_draft_in_english_says_the_same_from_the_catalogs(
    session: Session, clock: FrozenClock, world: World, built: Built
) -> None:
    s = _figures(session, clock, world.admin, built.campaign_id)
    _doc, paragraphs = _paragraphs(campaign_docx.render(s, "en"))
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == [
        "1. Background and objectives", "2. Organisation and implementation", "3. Results and highlights",
        "4. Problems and shortcomings", "5. Recommendations and outlook"]
    text = "\n".join(p.text for p in paragraphs)
    assert "on-time feedback rate 50%" in text and "公安局: On-time feedback rate below 80%" in text
    assert "[TO BE COMPLETED]" in text and "【待补充】" not in text
    assert campaign_docx.file_name(s, "en") == "2026年预付式消费专项整治行动 - work summary.docx"


def test_an_empty_campaign_drafts_without_figures_to_report(
    session: Session, clock: FrozenClock, world: World
) -> None:
    campaign = campaigns.create(session, clock, world.coordinator, CampaignIn(
        name="食品安全/夏季 专项行动", starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 31)))
    session.commit()
    s = _figures(session, clock, world.coordinator, campaign.id)
    assert not s.ended and s.departments == [] and s.feedback.on_time_feedback_rate.value is None
    _doc, paragraphs = _paragraphs(campaign_docx.render(s, "zh-CN"))
    text = "\n".join(p.text for p in paragraphs)
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == HEADINGS
    assert "活动仍在进行中" in text and "活动暂无登记案件" in text and "未发现超期未反馈" in text
    assert campaign_docx.file_name(s, "zh-CN") == "食品安全_夏季 专项行动工作总结.docx"


def test_only_coordinators_leaders_and_admins_read_the_summary(
    session: Session, clock: FrozenClock, world: World, built: Built
) -> None:
    for reader in (world.coordinator, world.leader, world.admin):
        assert _figures(session, clock, reader, built.campaign_id).cases.total == 5
    for involved in (world.liaison("TYJ"), world.head("GAJ"), world.liaison("XFXH"), world.head("SCJG")):
        with pytest.raises(Forbidden):
            report.summary(session, clock, involved, built.campaign_id)
        session.rollback()
    for outsider in (world.liaison("SWJ"), world.head("SWJ")):
        with pytest.raises(NotFound):
            report.summary(session, clock, outsider, built.campaign_id)
        session.rollback()


def test_download_over_the_api(api: Any, world: World, built: Built) -> None:
    url = f"/api/v1/campaigns/{built.campaign_id}/summary.docx"
    for reader in (world.coordinator, world.leader, world.admin):
        r = api.as_user(reader).get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == campaign_docx.MEDIA_TYPE
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
        assert r.headers["cache-control"] == "no-store"
        _doc, paragraphs = _paragraphs(r.content)
        assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == HEADINGS
    english = api.as_user(world.leader).get(url, params={"lang": "en"})
    assert _paragraphs(english.content)[1][0].text == "2026年预付式消费专项整治行动: Work Summary"
    by_header = api.as_user(world.leader, lang="en").get(url)
    assert _paragraphs(by_header.content)[1][0].text.endswith("Work Summary")

    involved = api.as_user(world.liaison("TYJ")).get(url)
    assert involved.status_code == 403 and involved.json()["error"]["code"] == "forbidden"
    assert api.as_user(world.head("GAJ")).get(url).status_code == 403
    for outsider in (world.liaison("SWJ"), world.head("SWJ")):
        r = api.as_user(outsider).get(url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert api.as_user(world.leader).get("/api/v1/campaigns/999999/summary.docx").status_code == 404
    assert api.as_user(world.leader).get(url, params={"lang": "fr"}).status_code == 422
    assert api.anonymous().get(url).status_code == 401


def _browser(app: Any, user: User) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    with Session(app.state.engine, expire_on_commit=False) as s:
        token = users.issue_token(s, app.state.clock, app.state.settings, user)
        s.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return client


def test_the_campaign_page_shows_the_figures_and_the_download_to_readers(
    app: Any, session: Session, world: World, built: Built
) -> None:
    page = f"/campaigns/{built.campaign_id}"
    leader = _browser(app, world.leader)
    r = leader.get(page)
    assert r.status_code == 200, r.text
    assert "2026年预付式消费专项整治行动" in r.text and "50.0%" in r.text and "公安局" in r.text
    link = f"/api/v1/campaigns/{built.campaign_id}/summary.docx?lang=zh-CN"
    assert link in r.text
    download = leader.get(link)  # the page's session cookie is enough for a download
    assert download.status_code == 200 and download.headers["content-type"] == campaign_docx.MEDIA_TYPE

    taking_part = _browser(app, world.liaison("TYJ")).get(page)
    assert taking_part.status_code == 200 and "summary.docx" not in taking_part.text
    assert "协调办、领导和系统管理员查阅" in taking_part.text
    assert _browser(app, world.liaison("SWJ")).get(page).status_code == 404

    case_page = leader.get(f"/cases/{built.case_ids['A']}")
    assert f'<a href="/campaigns/{built.campaign_id}">2026年预付式消费专项整治行动</a>' in case_page.text


def test_the_cli_writes_the_draft_to_the_directory(cli: Any, world: World, built: Built, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = cli.invoke(cli_app, ["report", "campaign", str(built.campaign_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = out / "2026年预付式消费专项整治行动工作总结.docx"
    assert result.output.strip() == str(target)
    _doc, paragraphs = _paragraphs(target.read_bytes())
    assert [p.text for p in paragraphs if p.style.name == "Heading 1"] == HEADINGS

    english = cli.invoke(cli_app, ["report", "campaign", str(built.campaign_id), "--out", str(out), "--lang", "en"])
    assert english.exit_code == 0 and (out / "2026年预付式消费专项整治行动 - work summary.docx").exists()

    missing = cli.invoke(cli_app, ["report", "campaign", "999999", "--out", str(out)])
    assert missing.exit_code == 2 and "专项行动不存在：999999" in missing.output
    bad = cli.invoke(cli_app, ["report", "campaign", str(built.campaign_id), "--lang", "fr"])
    assert bad.exit_code == 2 and "不支持的语言：fr" in bad.output
