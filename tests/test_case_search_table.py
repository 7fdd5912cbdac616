"""case_search (shared/cases/search_table.py): kept in step with every case by the database, and
rewritten at night so one enterprise's cases sit side by side, without ever changing what a search finds."""

from __future__ import annotations

from typing import Any

import pytest
from celery.schedules import crontab
from sqlalchemy import text
from sqlmodel import Session

from shared.cases import queries, search_table
from shared.cases import service as cases
from shared.cases.queries import CaseFilter, list_cases
from shared.cases.schemas import CaseUpdate
from tests.factories import World
from workers.tasks import search as search_task


def refs(session: Session, world: World, q: str) -> list[str]:
    return [c.reference for c in list_cases(session, world.coordinator, CaseFilter(q=q), limit=20)[0]]


def rows(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text(
        "SELECT case_id, lead_department_id, title, enterprise_name FROM case_search ORDER BY case_id"))]


def in_case(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(text(
        'SELECT id, lead_department_id, title, enterprise_name FROM "case" ORDER BY id'))]


def test_an_edited_case_is_found_by_its_new_name_and_title_and_no_longer_by_the_old(
        session: Session, clock: Any, world: World, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL through case_search, as a rare fragment is found; SQLite always walks `case`.
    monkeypatch.setattr(queries, "_takes_candidates", lambda *_: postgres)
    case = make_case(title="预付卡退费投诉", enterprise_name="永安盛商贸有限公司")
    other = make_case(title="噪音扰民", enterprise_name=None)
    assert rows(session) == in_case(session) and len(rows(session)) == 2
    assert refs(session, world, "永安盛") == [case.reference]

    cases.update_case(session, clock, world.coordinator, case.id, case.version,
                      CaseUpdate(title="健身房闭店投诉", enterprise_name="恒通达健身有限公司"))
    session.commit()
    assert rows(session) == in_case(session)
    assert refs(session, world, "恒通达") == [case.reference]
    assert refs(session, world, "健身房闭店") == [case.reference]
    assert refs(session, world, "永安盛") == [] and refs(session, world, "预付卡退费") == []
    assert refs(session, world, "噪音扰民") == [other.reference]


def test_closing_a_case_leaves_its_search_row_where_the_night_put_it(
        session: Session, clock: Any, world: World, make_case: Any) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("where a row lies is PostgreSQL's")
    case = make_case(title="预付卡退费投诉", enterprise_name="永安盛商贸有限公司")

    def where() -> tuple[str, str]:
        return session.execute(text("SELECT ctid::text, xmin::text FROM case_search WHERE case_id = :i"),
                               {"i": case.id}).one()._tuple()

    before = where()
    cases.close_case(session, clock, world.coordinator, case.id, case.version, "已办结")
    session.commit()
    assert where() == before  # not rewritten: a status change is not the search's


def test_the_night_puts_one_enterprises_cases_side_by_side_and_finds_the_same(
        session: Session, engine: Any, world: World, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    postgres = engine.dialect.name == "postgresql"
    monkeypatch.setattr(queries, "_takes_candidates", lambda *_: postgres)
    names = ["恒通达物流有限公司", "永安盛商贸有限公司", "嘉禾安居家政有限公司"]
    for i in range(9):
        make_case(title=f"投诉{i}", enterprise_name=names[i % 3])
    found = {q: refs(session, world, q) for q in ("恒通达", "永安盛", "投诉")}
    session.commit()

    def physical() -> list[str]:
        return list(session.scalars(text("SELECT enterprise_name FROM case_search ORDER BY ctid" if postgres
                                         else "SELECT enterprise_name FROM case_search ORDER BY rowid")))

    assert physical() == names * 3  # as they were opened
    session.commit()  # the reads' transaction ends, as a request's does
    monkeypatch.setattr(search_task, "get_engine", lambda: engine)
    assert search_task.cluster_case_search() is postgres
    session.commit()
    assert physical() == (sorted(names * 3) if postgres else names * 3)
    assert {q: refs(session, world, q) for q in found} == found
    assert len(found["投诉"]) == 9 and len(found["恒通达"]) == 3


def test_the_night_gives_way_to_searches_that_hold_the_table(
        session: Session, engine: Any, world: World, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL lock")
    import time

    make_case(title="投诉", enterprise_name="恒通达物流有限公司")
    monkeypatch.setattr(search_task, "get_engine", lambda: engine)
    monkeypatch.setattr(search_table, "CLUSTER_LOCK_TIMEOUT", "200ms")
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM case_search")).scalar_one()  # a search's transaction, still open
        started = time.monotonic()
        assert search_task.cluster_case_search() is False
        assert time.monotonic() - started < 2
        reader.rollback()
    assert search_task.cluster_case_search() is True


def test_the_rewrite_is_on_the_schedule_at_night() -> None:
    from workers.app import app
    from workers.schedule import beat_schedule

    entry = beat_schedule()["search-cluster"]
    assert entry["task"] == "search.cluster" and entry["schedule"] == crontab(minute=23, hour=3)
    app.loader.import_default_modules()
    assert "search.cluster" in app.tasks


def test_a_fragment_with_other_filters_finds_the_same_cases_either_way(
        session: Session, clock: Any, world: World, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidates come from case_search, the state and the dates from the case: the same rows as the walk."""
    from datetime import timedelta

    from shared.cases.models import CaseStatus

    older = make_case(title="预付卡投诉", enterprise_name="永安盛商贸有限公司")
    clock.advance(days=3)
    closed = make_case(title="退费投诉", enterprise_name="永安盛商贸有限公司")
    cases.close_case(session, clock, world.coordinator, closed.id, closed.version, "已办结")
    newest = make_case(title="闭店投诉", enterprise_name="永安盛商贸有限公司")
    make_case(title="噪音扰民", enterprise_name="恒通达物流有限公司")
    session.commit()
    since = clock.now() - timedelta(days=1)
    asked = {
        "open": CaseFilter(q="永安盛", status=CaseStatus.OPEN),
        "closed": CaseFilter(q="永安盛", status=CaseStatus.CLOSED),
        "since": CaseFilter(q="永安盛", created_from=since),
        "before": CaseFilter(q="永安盛", created_before=since),
    }
    expected = {"open": [newest.reference, older.reference], "closed": [closed.reference],
                "since": [newest.reference, closed.reference], "before": [older.reference]}
    for candidates in ((False, True) if session.get_bind().dialect.name == "postgresql" else (False,)):
        monkeypatch.setattr(queries, "_takes_candidates", lambda *_, c=candidates: c)
        got = {k: [c.reference for c in list_cases(session, world.coordinator, f)[0]] for k, f in asked.items()}
        assert got == expected, candidates
