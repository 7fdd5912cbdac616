"""The weekly report over the API and the CLI, tried by an attacker as well as by its readers.

Leaders, coordinators and admins read everything; a head reads its own
department's section; a liaison, or a head reaching for another department,
gets 404 — and never another department's overdue items or case titles.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from services.cli import app as cli_app
from shared.clock import FrozenClock
from tests.factories import World
from tests.test_report_figures import AFTER, Week, build_week

URL = "/api/v1/reports/weekly/2026-W40"
# Titles of cases SWJ neither leads nor shares (K1 is the default title of tests.factories).
FOREIGN_TITLES = ("某电商平台虚假宣传", "某健身连锁门店预付卡退费难", "某小区周边无证经营")


@pytest.fixture
def week(session: Session, clock: FrozenClock, world: World) -> Week:
    built = build_week(session, clock, world)
    clock.set(AFTER)
    return built


def test_leaders_coordinators_and_admins_read_the_whole_report(api, week: Week, world: World) -> None:  # type: ignore[no-untyped-def]
    for reader in (world.leader, world.coordinator, world.admin):
        r = api.as_user(reader).get(URL)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["week"], body["scope"], body["complete"]) == ("2026-W40", "all", True)
        assert body["figures"]["assignments_due"] == 4
        assert body["figures"]["on_time_feedback_rate"] == {"numerator": 2, "denominator": 4, "value": 0.5}
        assert body["figures"]["returns"]["by_reason"]["duplicate"] == 1
        assert body["figures"]["outcomes"]["fines_yuan"] in ("25000.00", 25000.0)
        assert [row["department"]["code"] for row in body["league_table"]][:2] == ["GAJ", "TYJ"]
        assert {item["department"]["code"] for item in body["overdue_list"]} == {"XFXH", "SWJ"}
        assert len(body["trend"]) == 8 and body["trend"][-1]["week"] == "2026-W40"

    r = api.as_user(world.leader).get(URL, params={"department_id": world.dept("GAJ").id})
    assert r.status_code == 200 and r.json()["scope"] == "GAJ"
    assert r.json()["figures"]["returns"]["returned_twice"] == 1


def test_a_head_reads_its_own_section_and_nothing_of_other_departments(api, week: Week, world: World) -> None:  # type: ignore[no-untyped-def]
    head = api.as_user(world.head("SWJ"))
    r = head.get(URL)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "SWJ" and body["department"]["code"] == "SWJ"
    assert [item["assignment_id"] for item in body["overdue_list"]] == [week.ids["A4"]]
    assert body["repeat_complaints"] == [] and body["highlights"] == {"typical_cases_closed": [],
                                                                      "largest_outcomes": []}
    for title in FOREIGN_TITLES:
        assert title not in r.text
    assert week.ids["A5"] not in [item["assignment_id"] for item in body["overdue_list"]]

    # Asking for another department's section, or the whole report by another door: 404.
    for params in ({"department_id": world.dept("XFXH").id}, {"department_id": world.dept("GAJ").id}):
        r = head.get(URL, params=params)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        for title in FOREIGN_TITLES:
            assert title not in r.text
    # Its own department named explicitly is the same section.
    assert head.get(URL, params={"department_id": world.dept("SWJ").id}).json()["overdue_list"] == body["overdue_list"]


def test_liaisons_and_strangers_get_nothing(api, week: Week, world: World) -> None:  # type: ignore[no-untyped-def]
    for liaison in (world.liaison("SWJ"), world.liaison("XFXH")):
        client = api.as_user(liaison)
        for params in ({}, {"department_id": liaison.department_id}, {"department_id": world.dept("GAJ").id}):
            r = client.get(URL, params=params)
            assert r.status_code == 404, r.text
            assert "overdue_list" not in r.text and "某" not in r.text
        # A bad or refused week must not tell a liaison more than a good one.
        assert client.get("/api/v1/reports/weekly/2099-W01").status_code == 404
    r = api.anonymous().get(URL)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_bad_future_and_early_weeks_are_422_naming_the_field(api, week: Week, world: World) -> None:  # type: ignore[no-untyped-def]
    zh, en = api.as_user(world.leader), api.as_user(world.leader, lang="en")
    for bad in ("2026-48", "2026-W54", "W40", "2026-W4O"):
        r = zh.get(f"/api/v1/reports/weekly/{bad}")
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["fields"][0]["field"] == "iso_week"
        assert "ISO 周" in r.json()["error"]["fields"][0]["reason"]
    r = en.get("/api/v1/reports/weekly/2026-W43")
    assert r.status_code == 422
    field = r.json()["error"]["fields"][0]
    assert field["field"] == "iso_week"
    assert field["reason"] == "2026-W43 has not started yet; weekly reports cover 2026-W39 to 2026-W42"
    r = zh.get("/api/v1/reports/weekly/2026-W38")
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["reason"] == (
        "2026-W38 在第一件案件创建之前就已结束，没有数据；可出周报的范围为 2026-W39 至 2026-W42")
    # The week still running is allowed: "this week so far".
    r = zh.get("/api/v1/reports/weekly/2026-W42")
    assert r.status_code == 200 and r.json()["complete"] is False
    r = zh.get(URL, params={"department_id": 999999})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "department_id"


def test_the_cli_prints_the_json_and_refuses_clearly(cli, week: Week, world: World) -> None:  # type: ignore[no-untyped-def]
    out = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--format", "json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout)
    assert (body["scope"], body["figures"]["assignments_due"], body["figures"]["callbacks"]["made"]) == ("all", 4, 3)

    out = cli.invoke(cli_app, ["report", "weekly", "--week", "2026-W40", "--department", "SWJ"])
    assert out.exit_code == 0, out.output
    assert [i["assignment_id"] for i in json.loads(out.stdout)["overdue_list"]] == [week.ids["A4"]]

    for args, expected in (
        (["--week", "2099-W01"], "2099-W01 尚未开始"),
        (["--week", "2026-W38"], "在第一件案件创建之前就已结束"),
        (["--week", "2026-48"], "不是 ISO 周"),
        (["--week", "2026-W40", "--department", "NOPE"], "没有代码为 NOPE 的部门"),
        (["--week", "2026-W40", "--format", "pdf"], "不支持的格式 pdf"),
    ):
        out = cli.invoke(cli_app, ["report", "weekly", *args])
        assert out.exit_code == 2, (args, out.output)
        assert expected in out.stderr and len(out.stderr.strip().splitlines()) == 1
        assert out.stdout == ""
