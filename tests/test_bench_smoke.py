"""The benchmarks at a tiny scale on the test PostgreSQL, so the bench code cannot rot.

Generates 2,000 cases into a throwaway database, then runs the queue load
test (real uvicorn servers, a few seconds of load), the reminder pass and the
delivery benchmark.  Performance targets are machine-dependent and are not
asserted here; what each benchmark measures must be right: row counts and
shapes, deadlines as the app computes them, every queue response a 200 with
the counts SQL gives, a constant number of statements per request, the pass
rolled back, every message delivered exactly as often as sent.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_reachable, missing_service

pytestmark = pytest.mark.postgres

CASES, ASSIGNMENTS, DEPARTMENTS, USERS = 2_000, 6_000, 8, 80


@pytest.fixture(scope="module")
def bench_db() -> Iterator[tuple[str, dict[str, Any]]]:
    from bench.dataset import Scale, generate

    problem = _postgres_reachable()
    if problem:
        missing_service(problem)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/gongzhi_bench_smoke_{uuid.uuid4().hex[:8]}"
    meta = generate(url, Scale(cases=CASES, assignments=ASSIGNMENTS, departments=DEPARTMENTS, users=USERS))
    yield url, meta
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _scalar(url: str, sql: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_generator_builds_a_consistent_dataset(bench_db: tuple[str, dict[str, Any]]) -> None:
    url, meta = bench_db
    stats = meta["stats"]
    assert stats["cases"] == CASES and stats["assignments"] == ASSIGNMENTS
    assert stats["departments"] == DEPARTMENTS and sum(stats["users"].values()) == USERS
    # Every state occurs, most work is done, and some is open and overdue.
    states = stats["assignment_states"]
    assert {"dispatched", "accepted", "submitted", "done", "cancelled"} <= set(states)
    assert states["done"] > ASSIGNMENTS * 0.8
    assert 0 < stats["open_fraction"] < 0.2
    assert stats["reminder_due_estimate"]["total"] > 0
    assert stats["feedback"] == states["submitted"] + states["done"]
    assert stats["calendar_days"] > 0  # seeded from the chinese-calendar package
    # 回访 for the weekly figures: only on approved complaint work of the lead department, after approval.
    assert stats["callbacks"] > 0
    assert _scalar(url, """SELECT count(*) FROM callback cb JOIN assignment a ON a.id = cb.assignment_id
                           JOIN "case" c ON c.id = cb.case_id
                           WHERE a.state <> 'done' OR cb.made_at <= a.done_at
                              OR c.source NOT IN ('hotline_12315', 'online_platform')
                              OR c.lead_department_id <> cb.department_id
                              OR (cb.reached AND cb.satisfaction IS NULL)""") == 0
    # 派发 and 退单 as the use cases record them: the latest dispatch is the assignment's own, one
    # return row per return counted on it, numbered 1..n, the last with its reason, none after `now`.
    assert stats["dispatches"] > ASSIGNMENTS and stats["returns"] > 0
    assert _scalar(url, """SELECT count(*) FROM assignment a LEFT JOIN LATERAL (
            SELECT d.dispatched_at, d.department_id, d.redispatch FROM assignment_dispatch d
            WHERE d.assignment_id = a.id ORDER BY d.dispatched_at DESC LIMIT 1) last ON true
        WHERE last.dispatched_at IS DISTINCT FROM a.dispatched_at OR last.department_id <> a.department_id
           OR last.redispatch <> (SELECT count(*) > 1 FROM assignment_dispatch d WHERE d.assignment_id = a.id)""") == 0
    assert _scalar(url, """SELECT count(*) FROM assignment a LEFT JOIN LATERAL (
            SELECT count(*) AS n, max(r.return_number) AS top, min(r.return_number) AS bottom,
                   (array_agg(r.reason ORDER BY r.returned_at DESC))[1] AS last_reason,
                   max(r.returned_at) AS last_at, bool_and(r.department_id = a.department_id) AS same
            FROM assignment_return r WHERE r.assignment_id = a.id) r ON true
        WHERE r.n <> a.return_count
           OR (r.n > 0 AND (r.top <> r.n OR r.bottom <> 1 OR r.last_reason <> a.return_reason OR NOT r.same
                            OR (a.state = 'returned' AND r.last_at <> a.updated_at)))""") == 0
    now = meta["now"]
    assert _scalar(url, f"""SELECT count(*) FROM assignment_dispatch d JOIN "case" c ON c.id = d.case_id
        WHERE d.dispatched_at < c.created_at OR d.dispatched_at > '{now}'""") == 0
    assert _scalar(url, f"""SELECT count(*) FROM assignment_return r JOIN assignment_dispatch d
            ON d.assignment_id = r.assignment_id AND NOT d.redispatch
        WHERE r.returned_at < d.dispatched_at OR r.returned_at > '{now}'""") == 0
    assert _scalar(url, "SELECT count(*) FROM assignment_dispatch WHERE redispatch") > 0
    assert _scalar(url, "SELECT count(*) FROM assignment_return WHERE return_number = 2") > 0
    # References: the public format, unique, gapless per year, and the sequence continues from them.
    refs = _scalar(url, """SELECT string_agg(reference, ',') FROM (SELECT reference FROM "case" LIMIT 50) s""")
    assert all(re.fullmatch(r"GZ-\d{4}-\d{6}", r) for r in refs.split(","))
    assert _scalar(url, 'SELECT count(DISTINCT reference) FROM "case"') == CASES
    assert _scalar(url, """SELECT count(*) FROM case_sequence s WHERE s.last_value <> (
        SELECT max(substring(reference from 9)::int) FROM "case" WHERE substring(reference from 4 for 4)::int = s.year
    ) OR s.last_value <> (SELECT count(*) FROM "case" WHERE substring(reference from 4 for 4)::int = s.year)""") == 0
    # A department with an assignment can see its case: it leads it or the case is shared with it.
    assert _scalar(url, """SELECT count(*) FROM assignment a JOIN "case" c ON c.id = a.case_id
        WHERE a.department_id <> c.lead_department_id AND NOT EXISTS (
            SELECT 1 FROM case_share s WHERE s.case_id = a.case_id AND s.department_id = a.department_id)""") == 0
    # Closed cases have nothing open.
    assert _scalar(url, """SELECT count(*) FROM "case" c JOIN assignment a ON a.case_id = c.id
        WHERE c.status = 'closed' AND a.state IN ('dispatched', 'accepted', 'submitted', 'returned')""") == 0


def test_generated_deadlines_are_the_apps_working_day_deadlines(bench_db: tuple[str, dict[str, Any]]) -> None:
    from shared.calendar.service import working_calendar
    from shared.settings import Settings

    url, _meta = bench_db
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            cal = working_calendar(session, Settings(demo=True, database_url=url))
            rows = session.execute(text(
                """SELECT dispatched_at, acceptance_due_at, original_feedback_due_at, working_days
                   FROM assignment ORDER BY id LIMIT 300""")).all()
            for r in rows:
                assert cal.add_working_days(r.dispatched_at, 1).at == r.acceptance_due_at
                assert cal.add_working_days(r.dispatched_at, r.working_days).at == r.original_feedback_due_at
    finally:
        engine.dispose()


def test_queue_benchmark_serves_correct_queues_with_constant_statements(
    bench_db: tuple[str, dict[str, Any]],
) -> None:
    from bench import queue_load

    url, _meta = bench_db
    out = queue_load.run(url, workers=1, connections=4, duration=1, rounds=1, warmup=0, bare_sync=False,
                         departments=3, breakdown_iterations=3)
    assert out["checks"]["all_ok"], out["checks"]
    assert all(r["status"] == 200 for r in out["checks"]["responses"])
    assert out["statements"]["constant"]
    assert out["statements"]["fewest_open"]["open"] < out["statements"]["most_open"]["open"]
    for name in ("bare", "queue", "queue-identity"):
        assert out["summary"][name]["rps"] > 0
        assert out["summary"][name]["non_2xx"] == 0
    assert out["ratio"] > 0 and out["ratio_identity"] > 0
    if out["tool"] == "wrk":  # the browser-like run got the compressed answers, the other the plain ones
        per_request = {name: out["runs"][name][0]["bytes"] / out["runs"][name][0]["requests"]
                       for name in ("queue", "queue-identity")}
        assert per_request["queue"] * 3 < per_request["queue-identity"], per_request


def test_pages_benchmark_checks_every_search_and_measures_every_page(bench_db: tuple[str, dict[str, Any]]) -> None:
    from bench import pages_load

    url, _meta = bench_db
    # Two values of each search kind per person, all checked; one in-process request per variant.
    out = pages_load.run(url, workers=1, connections=2, duration=1, rounds=1, warmup=0, per_person=2,
                         breakdown_per_variant=1)
    assert out["indexes_built"] == []  # the generator's schema already has the search's indexes
    kinds = {f"cases-{where}-{kind}" for where in ("page", "api") for kind in pages_load.SEARCH_KINDS}
    assert {"bare", "queue-page", "case-page", "cases-page", "cases-api"} | kinds == set(out["summary"])
    for name, check in out["checks"].items():
        assert check["ok"] and check["requests"] > 0, (name, check)
    for name, summary in out["summary"].items():
        assert summary["rps"] > 0 and summary["non_2xx"] == 0, (name, summary)
        assert summary["p95_ms"] > 0
    assert set(out["in_process"]) == set(out["summary"]) - {"bare"}


def test_side_by_side_serves_an_older_commit_beside_the_working_tree(bench_db: tuple[str, dict[str, Any]]) -> None:
    from bench import side_by_side

    url, _meta = bench_db
    out = side_by_side.run("HEAD", ["case-page"], alternations=2, duration=1, connections=2, url=url, warmup=1)
    assert set(out) == {"case-page"}
    for name, result in out.items():
        assert len(result["old_rps"]) == len(result["new_rps"]) == 2, (name, result)
        assert min(result["old_rps"] + result["new_rps"]) > 0 and result["non_2xx"] == 0, (name, result)
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True, check=True).stdout
    assert "gongzhi-old-" not in worktrees  # removed afterwards


def test_reminder_benchmark_runs_the_pass_and_leaves_nothing_behind(bench_db: tuple[str, dict[str, Any]]) -> None:
    from bench import reminders

    url, _meta = bench_db
    out = reminders.run(url, runs=1)
    run = out["runs"][0]
    assert run["ran"] and run["found"] > 0 and run["notices_total"] > 0 and run["emails"] > 0
    assert run["statements"] > 0 and 0 < run["db_s"] <= run["wall_s"]
    assert run["explain"] and all(e["execution_ms"] is not None for e in run["explain"])
    # Rolled back: the benchmark is repeatable.
    assert _scalar(url, "SELECT count(*) FROM reminder_notice") == 0
    assert _scalar(url, "SELECT count(*) FROM outbox_message") == 0


def test_delivery_benchmark_delivers_every_message_once_per_sender(bench_db: tuple[str, dict[str, Any]]) -> None:
    from bench import delivery

    url, _meta = bench_db
    out = delivery.run(url, messages=40, rounds=1)
    assert out["relay_report"]["sent"] == 40
    assert out["row_states"] == {"sent": 40}
    assert out["sink_received"]["messages"] == 3 * 40  # plain loop, relay, plain loop
    assert out["all_delivered"] and out["ratio"] > 0
    assert _scalar(url, "SELECT count(*) FROM outbox_message") == 0


def test_report_benchmark_counts_what_the_hand_written_sql_counts(bench_db: tuple[str, dict[str, Any]]) -> None:
    from bench import report_week

    url, _meta = bench_db
    out = report_week.run(url, rounds=1, departments=3)
    # The figures and the independent SQL agree on every number they both print.
    assert out["same_numbers"], out["differences"]
    week = out["week_figures"]
    assert week["assignments_due"] > 0 and week["departments"] == DEPARTMENTS
    assert out["figures"]["best_s"] > 0 and out["hand_written_sql"]["best_s"] > 0 and out["ratio"] > 0
    # The job built the full report and three sections, each as email, DOCX and XLSX, in a child process.
    job = out["job"]
    assert job["sections"] == 4
    assert all(job["bytes"][kind] > 0 for kind in ("email_html", "docx", "xlsx"))
    assert 0 < job["render_s"] <= job["total_s"] and job["peak_rss_mb"] > 0
