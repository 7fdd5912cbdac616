"""The leaders' page /reports: what each role reads, the archive's downloads, an admin's regeneration."""

from __future__ import annotations

import io
from datetime import UTC
from typing import Any

import docx
import openpyxl
from sqlalchemy import select
from sqlmodel import Session, col

from shared.assignments.models import Assignment
from shared.clock import FrozenClock
from shared.reports import delivery
from shared.reports.archive_models import WeeklyReportRecord
from tests.factories import World
from tests.test_pages import browser, form_fields, submit
from tests.test_report_delivery import SEND_AT, build_week, local

AFTER_SENDING = local(2026, 10, 8, 10, 0)  # Thursday of W41: "last week" is W40


def _setup(app: Any, session: Session, clock: FrozenClock, *, send: bool = False) -> World:
    world = build_week(session)
    if send:
        delivery.run_scheduled(session, now=SEND_AT.astimezone(UTC), settings=app.state.settings)
    session.commit()
    session.close()  # no transaction left open (SQLite: no write lock) while the pages work
    clock.set(AFTER_SENDING)
    return world


def _assignment_of(app: Any, world: World, code: str) -> int:
    with Session(app.state.engine) as s:
        return int(s.scalars(select(col(Assignment.id)).where(
            col(Assignment.department_id) == world.dept(code).id)).one())


def _records(app: Any) -> dict[str, int]:
    with Session(app.state.engine) as s:
        return {r.scope: r.id for r in s.scalars(select(WeeklyReportRecord))}  # type: ignore[misc]


def test_a_leader_reads_last_week_the_league_table_and_the_overdue_work(app: Any, session: Session,
                                                                         clock: FrozenClock) -> None:
    world = _setup(app, session, clock)
    swj = _assignment_of(app, world, "SWJ")
    leader = browser(app, world.leader)
    page = leader.get("/reports")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'href="/reports" aria-current="page"' in text  # the nav link
    assert "本周截至目前" in text and "上周" in text
    assert "各部门按时反馈排名" in text and "商务局" in text and "公安局" in text
    # 商务局 let its assignment run overdue: red, with the reason, and a link to its overdue work.
    assert 'class="league-red"' in text and 'class="level level-red"' in text
    assert f'href="/queue?department_id={world.dept("SWJ").id}&amp;bucket=overdue"' in text
    assert f'href="/assignments/{swj}"' in text
    assert "近 8 周趋势" in text and text.count('<svg class="bar"') >= 3
    # This week so far is one click away.
    assert "2026-W41" in leader.get("/reports?week=2026-W41").text


def test_a_head_reads_its_own_section_and_a_liaison_nothing(app: Any, session: Session, clock: FrozenClock) -> None:
    world = _setup(app, session, clock)
    swj = _assignment_of(app, world, "SWJ")
    own = browser(app, world.head("SWJ")).get("/reports")
    assert own.status_code == 200 and f'href="/assignments/{swj}"' in own.text
    assert 'href="/queue?bucket=overdue"' in own.text
    other = browser(app, world.head("GAJ")).get("/reports")
    assert other.status_code == 200
    assert "公安局" in other.text and "商务局" in other.text  # the league table: every department's aggregates
    assert f'href="/assignments/{swj}"' not in other.text  # … but not 商务局's work
    assert "department_id=" not in other.text
    liaison = browser(app, world.liaison("SWJ"))
    assert liaison.get("/reports").status_code == 404
    assert 'href="/reports"' not in liaison.get("/queue").text
    assert browser(app, world.coordinator).get("/reports").status_code == 200


def test_the_archive_shows_each_recipient_and_serves_the_files(app: Any, session: Session,
                                                               clock: FrozenClock) -> None:
    world = _setup(app, session, clock, send=True)
    records = _records(app)
    whole, swj = records["all"], records[f"department:{world.dept('SWJ').id}"]
    gaj = records[f"department:{world.dept('GAJ').id}"]
    leader = browser(app, world.leader)
    text = leader.get("/reports").text
    assert "往期周报" in text and f'href="/reports/archive/{whole}/docx"' in text
    assert "待发送" in text and "刘领导" in text and text.count('class="delivery delivery-pending"') == 7

    word = leader.get(f"/reports/archive/{whole}/docx")
    assert word.status_code == 200 and word.headers["content-type"] == delivery.DOCX
    assert "filename*=UTF-8''%E5%85%B1%E6%B2%BB%E5%91%A8%E6%8A%A5-2026-W40.docx" in word.headers["content-disposition"]
    document = docx.Document(io.BytesIO(word.content))
    body = "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])
    assert "商务局" in body and "公安局" in body
    sheet = leader.get(f"/reports/archive/{whole}/xlsx")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == delivery.XLSX
    assert openpyxl.load_workbook(io.BytesIO(sheet.content)).sheetnames
    view = leader.get(f"/reports/archive/{whole}")
    assert view.status_code == 200 and "script-src" not in view.headers["content-security-policy"]
    assert "default-src 'none'" in view.headers["content-security-policy"]
    assert "商务局" in view.text

    head = browser(app, world.head("SWJ"))
    assert head.get(f"/reports/archive/{swj}/docx").status_code == 200
    assert f'href="/reports/archive/{swj}"' in head.get("/reports").text
    for path in (f"/reports/archive/{whole}", f"/reports/archive/{whole}/xlsx", f"/reports/archive/{gaj}/docx"):
        assert head.get(path).status_code == 404, path
    liaison = browser(app, world.liaison("SWJ"))
    assert liaison.get(f"/reports/archive/{swj}/docx").status_code == 404
    assert leader.get(f"/reports/archive/{whole}/pdf").status_code == 404
    assert leader.get("/reports/archive/abc").status_code == 404


def test_an_admin_regenerates_a_week_and_a_leader_may_not(app: Any, session: Session, clock: FrozenClock) -> None:
    world = _setup(app, session, clock, send=True)
    admin = browser(app, world.admin)
    done = submit(admin, "/reports", "/reports/regenerate", week="2026-W40")
    assert (done.status_code, done.headers["location"]) == (303, "/reports?week=2026-W40")
    assert "已重新生成 2026-W40 的周报" in admin.get(done.headers["location"]).text
    with Session(app.state.engine) as s:
        assert {r.revision for r in s.scalars(select(WeeklyReportRecord))} == {2}  # type: ignore[misc]
    refused = submit(admin, "/reports", "/reports/regenerate", week="2026-W42")
    assert refused.status_code == 422 and "尚未" in refused.text

    leader = browser(app, world.leader)
    page = leader.get("/reports").text
    assert 'action="/reports/regenerate"' not in page
    forged = leader.post("/reports/regenerate", data={**form_fields(page, "/logout"), "week": "2026-W40"})
    assert forged.status_code == 403
    with Session(app.state.engine) as s:
        assert {r.revision for r in s.scalars(select(WeeklyReportRecord))} == {2}  # type: ignore[misc]

