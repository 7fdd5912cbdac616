"""Finding cases: search by what a caller has in hand, filters kept in the URL, Excel exports.

Runs on SQLite and PostgreSQL (the `app`/`world` fixtures sit on `db_url`).  The
phone search and the exports are tried as an attacker would: a department that
may not see a complainant unmasked learns nothing from a phone number, and no
export holds a case its list would not show.
"""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlmodel import Session

from services.api.pages import cases as case_pages
from shared.campaigns import service as campaigns
from shared.campaigns.service import CampaignIn
from shared.cases import export as case_export
from shared.cases.models import CaseSource
from shared.scope import personal_data_sql, sees_personal_data
from tests.factories import World, credit_code
from tests.test_pages import browser

PHONE = "13900001111"
OTHER_PHONE = "13900002222"  # on no case at all


@pytest.fixture
def three(make_case: Any) -> dict[str, Any]:
    """Three cases: SCJG's (shared with XFXH), GAJ's (shared with nobody), XFXH's own."""
    return {
        "gym": make_case(lead="SCJG", shared=("XFXH",), title="健身房预付卡停业退费难",
                         enterprise_name="南京力行健身管理有限公司", complainant_phone=PHONE,
                         enterprise_credit_code=credit_code("91320100MA1AAAAA0")),
        "food": make_case(lead="GAJ", title="外卖餐饮以次充好", enterprise_name="金陵小厨餐饮管理有限公司",
                          complainant_phone="13700003333", source=CaseSource.MEDIA, category="食品安全",
                          enterprise_credit_code=credit_code("91320100MA1BBBBB0")),
        "tour": make_case(lead="XFXH", title="旅行社强制购物投诉", enterprise_name="秦淮假日旅行社有限公司",
                          complainant_phone="13600004444",
                          enterprise_credit_code=credit_code("91320100MA1CCCCC0")),
    }


def api_refs(client: Any, **params: Any) -> list[str]:
    r = client.get("/api/v1/cases", params=params)
    assert r.status_code == 200, r.text
    return [c["reference"] for c in r.json()["items"]]


def page_refs(client: Any, **params: Any) -> list[str]:
    r = client.get("/cases", params=params)
    assert r.status_code == 200, r.text
    return re.findall(r'<a href="/cases/\d+">(GZ-\d{4}-\d{6})</a>', r.text)


def test_search_by_reference_credit_code_name_and_title(api: Any, app: Any, world: World,
                                                        three: dict[str, Any]) -> None:
    gym, food, tour = three["gym"], three["food"], three["tour"]
    coordinator = api.as_user(world.coordinator)
    page = browser(app, world.coordinator)
    # The box says what it finds.
    label = re.search(r'<label for="q">(.*?)</label>', page.get("/cases").text)
    assert label and all(word in label.group(1) for word in ("案件编号", "信用代码", "企业名称", "标题", "电话"))
    for search in (api_refs, page_refs):
        client = coordinator if search is api_refs else page
        assert search(client, q=gym.reference) == [gym.reference]  # the issue's /cases?q=GZ-2026-…
        assert search(client, q=f"  {food.reference.lower()} ") == [food.reference]
        assert search(client, q=tour.enterprise_credit_code) == [tour.reference]
        assert search(client, q=food.enterprise_credit_code.lower()) == [food.reference]
        assert search(client, q="力行健身") == [gym.reference]  # a fragment of the enterprise name
        assert search(client, q="假日旅行") == [tour.reference]
        assert search(client, q="以次充好") == [food.reference]  # words of the title
        assert search(client, q="有限公司") == [tour.reference, food.reference, gym.reference]
        assert search(client, q="GZ-2026-999999") == []
        assert search(client, q="100%") == []  # LIKE's wildcards are text here
    # Scope still applies: XFXH's liaison finds its own and the shared case, never GAJ's.
    xfxh = api.as_user(world.liaison("XFXH"))
    assert api_refs(xfxh, q=food.reference) == []
    assert api_refs(xfxh, q=gym.reference) == [gym.reference]  # shared with XFXH
    assert api_refs(xfxh, q=tour.reference) == [tour.reference]  # its own
    assert api_refs(xfxh, q=food.enterprise_credit_code) == []
    assert api_refs(xfxh, q="有限公司") == [tour.reference, gym.reference]


def test_phone_search_only_for_those_who_see_the_complainant_unmasked(api: Any, app: Any, world: World,
                                                                      three: dict[str, Any]) -> None:
    gym = three["gym"]
    # Who may: a coordinator, and the lead department (SCJG); by the number as typed or with separators.
    for user in (world.coordinator, world.liaison("SCJG"), world.head("SCJG")):
        client = api.as_user(user)
        assert api_refs(client, q=PHONE) == [gym.reference]
        assert api_refs(client, q="139-0000-1111") == [gym.reference]
        assert page_refs(browser(app, user), q=PHONE) == [gym.reference]
    # Who may not: XFXH sees the case (shared) but masked; the leader and admin see it masked.
    for user in (world.liaison("XFXH"), world.head("XFXH"), world.leader, world.admin):
        client = api.as_user(user)
        assert api_refs(client) != [], "the case itself is visible to them"
        known = client.get("/api/v1/cases", params={"q": PHONE})
        unknown = client.get("/api/v1/cases", params={"q": OTHER_PHONE})
        assert known.json() == unknown.json() == {"items": [], "next_cursor": None}
        pages = [browser(app, user).get("/cases", params={"q": number}).text for number in (PHONE, OTHER_PHONE)]
        assert gym.reference not in pages[0]
        assert re.sub(OTHER_PHONE, PHONE, pages[1]).count("cases/") == pages[0].count("cases/")
        # Nor through the export.
        sheet = xlsx_rows(client.get("/api/v1/cases", params={"q": PHONE, "format": "xlsx"}).content)
        assert sheet[1:] == []


def test_phone_rule_in_sql_is_the_rule_in_python(session: Session, world: World, three: dict[str, Any]) -> None:
    from sqlalchemy import select

    from shared.cases.models import Case

    for user in world.users.values():
        seen = set(session.scalars(select(Case.id).where(personal_data_sql(user))))  # type: ignore[call-overload]
        expected = {c.id for c in three.values() if sees_personal_data(user, c)}
        assert seen == expected, user.username


def test_filters_round_trip_in_the_url(api: Any, app: Any, world: World, session: Session, clock: Any,
                                       make_case: Any, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    campaign = campaigns.create(session, clock, world.coordinator, CampaignIn(
        name="预付式消费专项整治", starts_on=clock.now().date(), ends_on=clock.now().date() + timedelta(days=30)))
    session.commit()
    old = make_case(lead="TYJ", title="旧案")
    clock.advance(days=2)
    late = make_case(lead="TYJ", title="预付卡退费甲", campaign_id=campaign.id, source=CaseSource.MEDIA)
    also = make_case(lead="TYJ", title="预付卡退费乙", campaign_id=campaign.id, source=CaseSource.MEDIA)
    dispatch(late, "TYJ", days=1)
    dispatch(also, "TYJ", days=1)
    dispatch(old, "TYJ", days=10)
    clock.advance(days=3)  # late's and also's work is now overdue; old's is not
    today = clock.now().date()
    params = {"q": "预付卡", "status": "open", "source": "media", "category": "预付式消费",
              "lead_department_id": str(world.dept("TYJ").id), "campaign_id": str(campaign.id),
              "overdue": "1", "date_from": (today - timedelta(days=4)).isoformat(), "date_to": today.isoformat()}
    coordinator = api.as_user(world.coordinator)
    assert api_refs(coordinator, **{**params, "overdue": "true"}) == [also.reference, late.reference]
    assert api_refs(coordinator, overdue="true") == [also.reference, late.reference]
    assert api_refs(coordinator, source="media") == [also.reference, late.reference]
    assert api_refs(coordinator, date_to=(today - timedelta(days=4)).isoformat()) == [old.reference]
    assert api_refs(coordinator, date_from=(today - timedelta(days=3)).isoformat()) == [also.reference,
                                                                                          late.reference]
    bad = coordinator.get("/api/v1/cases", params={"date_from": "2026-13-01"})
    assert bad.status_code == 422 and "date_from" in bad.text

    monkeypatch.setattr(case_pages, "PAGE_SIZE", 1)
    page = browser(app, world.coordinator)
    r = page.get("/cases", params=params)
    body = htmllib.unescape(r.text)
    assert re.findall(r'<a href="/cases/\d+">(GZ-[\d-]+)</a>', body) == [also.reference]
    # The form shows every filter as chosen.
    assert 'name="q" type="search" maxlength="100" value="预付卡"' in body
    for name, value in (("status", "open"), ("source", "media"),
                        ("lead_department_id", params["lead_department_id"]), ("campaign_id", str(campaign.id))):
        select_html = re.search(rf'<select id="\w+" name="{name}">(.*?)</select>', body, re.S)
        assert select_html and f'value="{value}" selected' in select_html.group(1), name
    assert 'name="overdue" type="checkbox" value="1" checked' in body
    assert f'name="date_from" type="date" value="{params["date_from"]}"' in body
    # The next page and the export keep them all.
    next_url = re.search(r'<a href="([^"]+)" rel="next">', body)
    assert next_url
    kept = {k: v[0] for k, v in parse_qs(urlsplit(next_url.group(1)).query).items()}
    assert {k: kept[k] for k in params} == params and kept["cursor"]
    r2 = page.get(next_url.group(1))
    assert re.findall(r'<a href="/cases/\d+">(GZ-[\d-]+)</a>', r2.text) == [late.reference]
    export = re.search(r'<a class="button no-print" href="([^"]+)" download>', body)
    assert export
    exported = {k: v[0] for k, v in parse_qs(urlsplit(htmllib.unescape(export.group(1))).query).items()}
    assert exported == {**params, "format": "xlsx"}
    # A date that is no date: said, naming the field, and left out.
    r3 = page.get("/cases", params={"date_from": "2026-02-30"})
    assert r3.status_code == 200 and "开案日期起" in r3.text and "格式不正确" in r3.text


def xlsx_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(BytesIO(content))
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_xlsx_export_has_chinese_headers_a_frozen_row_and_fitted_widths(api: Any, app: Any, world: World,
                                                                        three: dict[str, Any]) -> None:
    r = browser(app, world.coordinator).get("/cases", params={"q": "有限公司", "format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["content-type"] == case_export.XLSX_MEDIA_TYPE
    assert r.headers["content-disposition"].startswith('attachment; filename="cases-')
    book = load_workbook(BytesIO(r.content))
    sheet = book.worksheets[0]
    assert sheet.title == "案件"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["案件编号", "标题", "涉事企业", "统一社会信用代码", "类别", "来源", "优先级", "状态",
                       "牵头部门", "开案时间", "结案时间"]
    assert [row[0] for row in rows[1:]] == [three[k].reference for k in ("tour", "food", "gym")]
    gym = rows[3]
    assert gym[1:9] == ["健身房预付卡停业退费难", "南京力行健身管理有限公司", three["gym"].enterprise_credit_code,
                        "预付式消费", "12315 热线", "一般", "办理中", "市场监督管理局"]  # labels, not codes
    assert gym[9] == datetime(2026, 12, 1, 10, 0) and gym[10] is None  # Shanghai wall time
    assert sheet.freeze_panes == "A2"
    widths = {col: sheet.column_dimensions[col].width for col in "ABCD"}
    assert widths["C"] >= 2 * len("南京力行健身管理有限公司")  # Chinese characters count two
    assert widths["D"] >= 18 and widths["A"] >= 14
    assert PHONE not in str(rows)  # no complainant data in any export
    # The API's export is the same list.
    api_rows = xlsx_rows(api.as_user(world.coordinator).get(
        "/api/v1/cases", params={"q": "有限公司", "format": "xlsx"}).content)
    assert [r[0] for r in api_rows] == [r[0] for r in rows]


def test_an_export_never_holds_another_departments_unshared_case(api: Any, app: Any, world: World,
                                                                 three: dict[str, Any]) -> None:
    food = three["food"]  # GAJ's, shared with nobody
    liaison = world.liaison("XFXH")
    attempts: list[dict[str, str]] = [
        {}, {"q": food.reference}, {"q": food.enterprise_credit_code}, {"q": "金陵小厨"}, {"q": "13700003333"},
        {"lead_department_id": str(world.dept("GAJ").id)}, {"source": "media"}, {"category": "食品安全"},
        {"cursor": "WyIyMDI2LTEyLTAxIiwgOTk5OTk5XQ"},
    ]
    for params in attempts:
        for got in (browser(app, liaison).get("/cases", params={**params, "format": "xlsx"}),
                    api.as_user(liaison).get("/api/v1/cases", params={**params, "format": "xlsx"})):
            assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
            rows = xlsx_rows(got.content)
            assert food.reference not in str(rows) and "金陵小厨" not in str(rows), params
    everything = xlsx_rows(api.as_user(liaison).get("/api/v1/cases", params={"format": "xlsx"}).content)
    assert [r[0] for r in everything[1:]] == [three["tour"].reference, three["gym"].reference]


def test_an_export_is_bounded_and_says_so(api: Any, world: World, three: dict[str, Any],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_export, "EXPORT_LIMIT", 2)
    rows = xlsx_rows(api.as_user(world.coordinator).get("/api/v1/cases", params={"format": "xlsx"}).content)
    data = [r for r in rows[1:] if r[0] and str(r[0]).startswith("GZ-")]
    assert len(data) == 2
    assert any(r[0] and "仅导出前 2 条" in str(r[0]) for r in rows)


def test_name_search_is_served_by_the_trigram_index_on_postgresql(session: Session, world: World,
                                                                  three: dict[str, Any]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    from shared.cases.queries import CaseFilter, list_cases

    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_indexscan = off"))  # not the walk by created_at
    found, _ = list_cases(session, world.coordinator, CaseFilter(q="力行健身"))
    assert [c.reference for c in found] == [three["gym"].reference]
    # A fragment's candidates come from case_search (shared/cases/search_table.py), by its own indexes.
    plan = "\n".join(session.execute(text(
        """EXPLAIN SELECT case_id FROM case_search
           WHERE title ILIKE '%力行健身%' OR enterprise_name ILIKE '%力行健身%'"""
    )).scalars())
    assert "ix_case_search_title_trgm" in plan and "ix_case_search_enterprise_name_trgm" in plan, plan
    # None on `case`, where the planner took them for a walk (shared/cases/models.py).
    on_case = session.execute(text(
        """SELECT indexname FROM pg_indexes WHERE tablename = 'case' AND indexdef LIKE '%gin_trgm_ops%'""")).all()
    assert on_case == []
    targets = dict(session.execute(text(
        """SELECT attname, attstattarget FROM pg_attribute WHERE attrelid = '"case"'::regclass
           AND attname IN ('title', 'enterprise_name')""")).tuples().all())
    # The default (-1; NULL from PostgreSQL 17): the search chooses its own plan, and finer statistics
    # only made planning each search slower.
    assert all(t in (-1, None) for t in targets.values()) and len(targets) == 2, targets
    session.rollback()


def test_statement_timeout_cancels_a_long_query_on_postgresql(settings: Any, engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    import time

    from sqlalchemy.exc import OperationalError

    from services.api.app import create_app
    from shared.db import dispose_engines

    app = create_app(settings.model_copy(update={"statement_timeout_ms": 300}))
    try:
        with app.state.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "300ms"
            # A request's statements start no parallel workers and are planned for a cached database.
            assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
            assert conn.execute(text("SHOW random_page_cost")).scalar() == "1.1"
            started = time.monotonic()
            with pytest.raises(OperationalError, match="statement timeout"):
                conn.execute(text("SELECT pg_sleep(3)"))
            assert time.monotonic() - started < 2
        default = create_app(settings)
        with default.state.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "5s"
    finally:
        dispose_engines()


def test_a_search_stopped_by_the_statement_timeout_says_so_and_may_be_retried(
        settings: Any, engine: Any, clock: Any, world: World, three: dict[str, Any]) -> None:
    """A list whose statement the timeout cancels answers 503 with Retry-After and a sentence in
    the reader's language (envelope for the API, a page for the browser), not a bare 500."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    from services.api.app import create_app
    from shared.db import dispose_engines
    from tests.conftest import Api

    app = create_app(settings.model_copy(update={"statement_timeout_ms": 300}), clock=clock)
    try:
        client = Api(app).as_user(world.coordinator)
        page = browser(app, world.coordinator)
        english = Api(app).as_user(world.coordinator, lang="en")
        with engine.connect() as blocker:  # another transaction holds the table: every read of it waits
            blocker.execute(text('LOCK TABLE "case" IN ACCESS EXCLUSIVE MODE'))
            r = client.get("/api/v1/cases", params={"q": "健身"})
            assert r.status_code == 503 and r.headers["Retry-After"] == "5"
            assert r.json()["error"]["code"] == "query_timeout" and "缩小查询范围" in r.json()["error"]["message"]
            assert "Narrow it" in english.get("/api/v1/cases").json()["error"]["message"]
            shown = page.get("/cases", params={"q": "健身"})
            assert shown.status_code == 503 and "查询用时过长" in shown.text
            blocker.rollback()
        assert client.get("/api/v1/cases", params={"q": "健身"}).status_code == 200  # tried again, it works
    finally:
        dispose_engines()


def test_the_queue_exports_its_own_department_only(app: Any, world: World, make_case: Any, dispatch: Any) -> None:
    mine = make_case(lead="XFXH", title="本部门的任务")
    theirs = make_case(lead="GAJ", title="公安局的任务")
    a = dispatch(mine, "XFXH", days=3)
    dispatch(theirs, "GAJ", days=3)
    page = browser(app, world.liaison("XFXH"))
    r = page.get("/queue")
    assert 'href="/queue?format=xlsx" download' in r.text
    for params in ({"format": "xlsx"}, {"format": "xlsx", "department_id": str(world.dept("GAJ").id)},
                   {"format": "xlsx", "bucket": "to_accept"}):
        got = page.get("/queue", params=params)
        assert got.status_code == 200 and got.headers["content-type"] == case_export.XLSX_MEDIA_TYPE
        rows = xlsx_rows(got.content)
        assert rows[0] == ["任务", "案件编号", "标题", "承办部门", "承办人", "状态", "派发时间", "签收期限",
                           "反馈期限", "已逾期"]
        assert [(r[0], r[1], r[3]) for r in rows[1:]] == [(a.id, mine.reference, "消费者协会")], params
        assert "公安局的任务" not in str(rows)


def test_a_fragment_pages_alike_through_its_candidates_and_by_the_walk(
        session: Session, world: World, clock: Any, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a fragment rare among the newest cases is found through its candidates from the
    trigram index, a common one by the walk newest first (shared.cases.queries): the same rows in
    the same order either way, page by page with cursors, ties broken by id, each reader's scope."""
    from sqlalchemy import select
    from sqlmodel import col

    from shared.cases import queries
    from shared.cases.models import Case
    from shared.cases.queries import CaseFilter, list_cases
    from shared.scope import case_visible

    made = []
    for i in range(12):
        lead = ("SCJG", "GAJ", "XFXH")[i % 3]
        shared = ("XFXH",) if i % 4 == 0 and lead != "XFXH" else ()
        name = f"{'永安盛' if i % 3 == 1 else '恒通达'}商贸{i}有限公司"
        made.append(make_case(lead=lead, shared=shared, title=f"预付卡投诉{i}", enterprise_name=name))
        if i % 2:
            clock.advance(minutes=1)  # two cases a minute: the same created_at, told apart by id
    newest = sorted(made, key=lambda c: (c.created_at, c.id), reverse=True)
    postgres = session.get_bind().dialect.name == "postgresql"

    def pages(user: Any, q: str) -> list[str]:
        got: list[str] = []
        cursor = None
        while True:
            rows, cursor = list_cases(session, user, CaseFilter(q=q), cursor=cursor, limit=2)
            got += [c.reference for c in rows]
            if cursor is None:
                return got

    readers = [world.coordinator, world.liaison("XFXH"), world.liaison("SCJG"), world.liaison("TYJ")]
    for q in ("永安盛", "恒通达", "有限公司"):
        for user in readers:
            visible = set(session.scalars(select(Case.id).where(case_visible(user))))  # type: ignore[call-overload]
            expected = [c.reference for c in newest if q in c.enterprise_name and c.id in visible]
            for rare in ((False, True) if postgres else (False,)):
                monkeypatch.setattr(queries, "_takes_candidates", lambda *_, rare=rare: rare)
                assert pages(user, q) == expected, (q, user.username, rare)
    monkeypatch.undo()

    # What decides: hits among the newest cases from where the page starts.
    monkeypatch.setattr(queries, "RECENT_SAMPLE", 6)
    monkeypatch.setattr(queries, "COMMON_HITS", 3)
    assert queries._fragment_is_rare(session, "永安盛", []) is postgres  # 2 of the newest 6
    assert queries._fragment_is_rare(session, "恒通达", []) is False  # 4 of them
    assert queries._fragment_is_rare(session, "永安", []) is False  # no trigram to look up
    oldest_four = [col(Case.created_at) < newest[6].created_at]  # where a page's cursor would start
    assert queries._fragment_is_rare(session, "恒通达", oldest_four) is False  # 3 of them
    monkeypatch.setattr(queries, "COMMON_HITS", 4)
    assert queries._fragment_is_rare(session, "恒通达", oldest_four) is postgres


def test_a_fragments_plan_is_sampled_once_and_the_rows_never_depend_on_it(
        session: Any, world: World, make_case: Any, monkeypatch: Any) -> None:
    """The sample that picks the plan runs once per fragment and page bounds; a remembered verdict
    gives the same rows, and another fragment is sampled for itself."""
    from shared.cases import queries
    from shared.cases.queries import CaseFilter, list_cases

    for i in range(3):
        make_case(title=f"预付卡投诉{i}", enterprise_name=f"永安盛商贸{i}有限公司")
    make_case(title="噪音扰民", enterprise_name="恒通达物流有限公司")
    samples: list[str] = []
    real = queries._fragment_is_rare
    monkeypatch.setattr(queries, "_fragment_is_rare",
                        lambda s, text, bounds: samples.append(text) or real(s, text, bounds))

    def refs(q: str) -> list[str]:
        return [c.reference for c in list_cases(session, world.coordinator, CaseFilter(q=q), limit=10)[0]]

    first = refs("永安盛")
    assert len(first) == 3 and refs("永安盛") == first and refs(" 永安盛 ") == first
    assert refs("恒通达") != first
    assert samples == ["永安盛", "恒通达"]
