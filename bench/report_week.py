"""The weekly summary on the large dataset: figures, the hand-written SQL they are held to, artefacts, memory.

    .venv/bin/python -m bench.report_week [--rounds 3] [--departments N]

For the last complete week before the dataset's ``now``:

1. figures: ``shared.reports.figures.weekly_report`` for all departments (the
   week, the previous week and the 8-week trend, the league table, the
   overdue list, repeat complaints, highlights) — best of ``rounds``;
2. the same numbers from plain SQL written here, independently (its own
   working-day table from ``calendar_day``, its own week buckets, FILTER
   clauses instead of the shared expressions), run the same way; its numbers
   are compared with the figures', so the benchmark also checks that both
   count the same thing;
3. the artefacts for all departments: the full report and every active
   department's section, each as the HTML email, the DOCX and the XLSX (with
   the rows behind them), built the way the report job builds them
   (``shared.reports.figures.weekly_reports``: the grouped statements once,
   then each section's lists and rows, rendered and dropped one at a time);
4. the peak resident memory of that job run in a separate process
   (``ru_maxrss`` of the child).

Targets (issue 9 §7): figures ≤ 2 × the hand-written SQL; the artefacts for
all departments < 10 s; the report job's peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from contextlib import closing
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from bench.common import bench_url, connect, meta_now, read_meta, sqlalchemy_url
from shared.reports.model import WeeklyReport
from shared.reports.weeks import IsoWeek
from shared.settings import Settings

FIGURES_RATIO_TARGET = 2.0
ARTEFACTS_TARGET_S = 10.0
PEAK_MB_TARGET = 300.0
TREND_WEEKS = 8
REPEAT_WEEKS = 4
TZ = "Asia/Shanghai"
MICROSECOND = timedelta(microseconds=1)


# ------------------------------------------------------------------ the hand-written SQL

# A table of every local date with its working-day ordinal: weekdays work unless
# calendar_day says otherwise (holidays, make-up working days).
WORKING_DAYS = """
CREATE TEMPORARY TABLE hand_wd ON COMMIT DROP AS
SELECT d::date AS day,
       (sum(CASE WHEN coalesce(cd.is_working, extract(isodow FROM d) < 6) THEN 1 ELSE 0 END)
            OVER (ORDER BY d))::int AS ordinal
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') d
LEFT JOIN calendar_day cd ON cd.day = d::date;
"""
WORKING_DAYS_KEY = "ALTER TABLE hand_wd ADD PRIMARY KEY (day)"


def _bucket(column: str) -> str:
    return f"floor(extract(epoch FROM {column} - %(start)s::timestamptz) / 604800)::int"


def _window(column: str) -> str:
    return f"{column} >= %(start)s AND {column} < %(upto)s"


def _local(column: str) -> str:
    return f"(({column}) AT TIME ZONE '{TZ}')::date"


HAND_QUERIES: dict[str, str] = {
    "cases_created": f"""
        SELECT {_bucket("created_at")}, lead_department_id, category, count(*)
        FROM "case" WHERE {_window("created_at")} GROUP BY 1, 2, 3""",
    "cases_closed": f"""
        SELECT {_bucket("closed_at")}, lead_department_id, count(*)
        FROM "case" WHERE {_window("closed_at")} GROUP BY 1, 2""",
    "feedback_due": f"""
        SELECT {_bucket("feedback_due_at")}, department_id, count(*),
               count(*) FILTER (WHERE first_submitted_at <= feedback_due_at),
               count(*) FILTER (WHERE first_submitted_at <= feedback_due_at
                                  AND first_submitted_at > original_feedback_due_at)
        FROM assignment WHERE state <> 'cancelled' AND {_window("feedback_due_at")} GROUP BY 1, 2""",
    "acceptance_due": f"""
        SELECT {_bucket("acceptance_due_at")}, department_id, count(*),
               count(*) FILTER (WHERE accepted_at <= acceptance_due_at)
        FROM assignment WHERE state <> 'cancelled' AND {_window("acceptance_due_at")} GROUP BY 1, 2""",
    "feedback_latency": f"""
        SELECT {_bucket("a.first_submitted_at")}, a.department_id, t.ordinal - f.ordinal, count(*)
        FROM assignment a
        JOIN hand_wd f ON f.day = {_local("a.dispatched_at")}
        JOIN hand_wd t ON t.day = {_local("a.first_submitted_at")}
        WHERE {_window("a.first_submitted_at")} GROUP BY 1, 2, 3""",
    "acceptance_latency": f"""
        SELECT {_bucket("a.accepted_at")}, a.department_id, t.ordinal - f.ordinal, count(*)
        FROM assignment a
        JOIN hand_wd f ON f.day = {_local("a.dispatched_at")}
        JOIN hand_wd t ON t.day = {_local("a.accepted_at")}
        WHERE {_window("a.accepted_at")} GROUP BY 1, 2, 3""",
    "dispatches": f"""
        SELECT {_bucket("dispatched_at")}, department_id, count(*)
        FROM assignment_dispatch WHERE {_window("dispatched_at")} GROUP BY 1, 2""",
    "returns": f"""
        SELECT {_bucket("returned_at")}, department_id, reason, count(*)
        FROM assignment_return WHERE {_window("returned_at")} GROUP BY 1, 2, 3""",
    "returned_twice": f"""
        SELECT {_bucket("returned_at")}, department_id, count(DISTINCT assignment_id)
        FROM assignment_return WHERE return_number >= 2 AND {_window("returned_at")} GROUP BY 1, 2""",
    "callbacks": f"""
        SELECT {_bucket("made_at")}, department_id, count(*),
               count(*) FILTER (WHERE reached),
               count(*) FILTER (WHERE reached AND satisfaction IN ('satisfied', 'basically_satisfied')),
               count(*) FILTER (WHERE reached AND resolved)
        FROM callback WHERE {_window("made_at")} GROUP BY 1, 2""",
    "inspections": f"""
        SELECT {_bucket("i.completed_at")}, p.department_id, count(*)
        FROM inspection i JOIN inspection_participant p ON p.inspection_id = i.id
        WHERE i.status = 'done' AND {_window("i.completed_at")} GROUP BY 1, 2""",
    "inspections_overall": f"""
        SELECT {_bucket("completed_at")}, count(*)
        FROM inspection WHERE status = 'done' AND {_window("completed_at")} GROUP BY 1""",
    "outcomes": f"""
        SELECT {_bucket("f.reviewed_at")}, a.department_id, sum(f.enterprises_inspected), sum(f.problems_found),
               sum(f.rectification_orders), sum(f.cases_filed), sum(f.fines_yuan), sum(f.complaints_mediated),
               sum(f.losses_recovered_yuan)
        FROM feedback f JOIN assignment a ON a.id = f.assignment_id
        WHERE f.review_decision = 'approved' AND {_window("f.reviewed_at")} GROUP BY 1, 2""",
    # Each week's snapshot: still dispatched or accepted, due before it; working days overdue up to its date.
    "overdue": f"""
        SELECT s.i, a.department_id, count(*), max(last.ordinal - due.ordinal)
        FROM unnest(%(snapshots)s::timestamptz[]) WITH ORDINALITY AS s(at, i)
        JOIN hand_wd last ON last.day = {_local("s.at - interval '1 microsecond'")}
        JOIN assignment a ON a.state IN ('dispatched', 'accepted') AND a.feedback_due_at < s.at
        JOIN hand_wd due ON due.day = {_local("a.feedback_due_at")}
        GROUP BY 1, 2""",
    "overdue_list": f"""
        SELECT a.id, c.reference, c.title, a.department_id, u.name, a.state, a.feedback_due_at,
               last.ordinal - due.ordinal AS days
        FROM assignment a
        JOIN "case" c ON c.id = a.case_id
        LEFT JOIN "user" u ON u.id = a.assignee_id
        JOIN hand_wd due ON due.day = {_local("a.feedback_due_at")}
        JOIN hand_wd last ON last.day = {_local("%(snapshot)s::timestamptz - interval '1 microsecond'")}
        WHERE a.state IN ('dispatched', 'accepted') AND a.feedback_due_at < %(snapshot)s
        ORDER BY days DESC, a.feedback_due_at, a.id LIMIT 100""",
    "repeat_complaints": """
        SELECT c.enterprise_credit_code, c.id
        FROM "case" c
        WHERE c.created_at >= %(repeat_start)s AND c.created_at < %(upto)s AND c.enterprise_credit_code IN (
            SELECT enterprise_credit_code FROM "case"
            WHERE created_at >= %(repeat_start)s AND created_at < %(upto)s AND enterprise_credit_code IS NOT NULL
            GROUP BY 1 HAVING count(*) >= 2)
        ORDER BY 1, c.created_at, c.id""",
    "typical_closed": """
        SELECT id FROM "case" WHERE is_typical AND closed_at >= %(week_start)s AND closed_at < %(upto)s
        ORDER BY closed_at, id LIMIT 20""",
    "largest_outcomes": """
        SELECT a.case_id, f.fines_yuan + f.losses_recovered_yuan
        FROM feedback f JOIN assignment a ON a.id = f.assignment_id
        WHERE f.review_decision = 'approved' AND f.reviewed_at >= %(week_start)s AND f.reviewed_at < %(upto)s
          AND f.fines_yuan + f.losses_recovered_yuan > 0
        ORDER BY 2 DESC, f.id LIMIT 5""",
    "departments": "SELECT id, code, name, active FROM department",
}


def hand_params(conn: psycopg.Connection[Any], week: IsoWeek, now: datetime, settings: Settings) -> dict[str, Any]:
    tz = settings.tz
    weeks = week.last(TREND_WEEKS)
    start, end = weeks[0].starts_at(tz), week.ends_at(tz)
    upto = min(end, now)
    snapshots = [min(w.ends_at(tz), now) for w in weeks]
    first_case = conn.execute('SELECT min(created_at) FROM "case"').fetchone()
    first = min(start, first_case[0] if first_case and first_case[0] else start).astimezone(tz).date()
    return {"start": start, "upto": upto, "snapshots": snapshots, "snapshot": snapshots[-1],
            "week_start": week.starts_at(tz), "repeat_start": week.last(REPEAT_WEEKS)[0].starts_at(tz),
            "first": first, "last": (upto - MICROSECOND).astimezone(tz).date()}


def hand_written(conn: psycopg.Connection[Any], params: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every statement, in one transaction (the working-day table is a temporary one)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with conn.transaction():
        conn.execute(WORKING_DAYS, params)  # type: ignore[arg-type]
        conn.execute(WORKING_DAYS_KEY)
        for name, sql in HAND_QUERIES.items():
            names = {k: v for k, v in params.items() if f"%({k})s" in sql}
            out[name] = conn.execute(sql, names).fetchall()  # type: ignore[arg-type]
    return out


# ------------------------------------------------------------------ the same numbers, compared


def _median(hist: Counter[int]) -> float | None:
    values = sorted(hist.elements())
    return float(statistics.median(values)) if values else None


def hand_numbers(rows: dict[str, list[tuple[Any, ...]]]) -> dict[tuple[int, int | None], dict[str, Any]]:
    """(week index, department or None for all) -> the numbers the figures print."""
    t: dict[tuple[int, int | None], dict[str, Any]] = defaultdict(lambda: defaultdict(int))

    def add(b: int, d: int | None, name: str, value: Any) -> None:
        for key in ((b, d), (b, None)):
            t[key][name] += value

    for b, d, category, n in rows["cases_created"]:
        add(b, d, "new_cases", n)
        add(b, d, f"category:{category}", n)
    for b, d, n in rows["cases_closed"]:
        add(b, d, "closed_cases", n)
    for b, d, n, ok, ext in rows["feedback_due"]:
        add(b, d, "assignments_due", n)
        add(b, d, "on_time", ok)
        add(b, d, "on_time_by_extension", ext)
    for b, d, n, ok in rows["acceptance_due"]:
        add(b, d, "acceptance_due", n)
        add(b, d, "accepted_on_time", ok)
    for kind in ("feedback_latency", "acceptance_latency"):
        hists: dict[tuple[int, int | None], Counter[int]] = defaultdict(Counter)
        for b, d, days, n in rows[kind]:
            hists[(b, d)][days] += n
            hists[(b, None)][days] += n
        for key, hist in hists.items():
            t[key][f"{kind}_count"] = sum(hist.values())
            t[key][f"{kind}_median"] = _median(hist)
    for b, d, n in rows["dispatches"]:
        add(b, d, "dispatches", n)
    for b, d, reason, n in rows["returns"]:
        add(b, d, "returns", n)
        add(b, d, f"reason:{reason}", n)
    for b, d, n in rows["returned_twice"]:
        add(b, d, "returned_twice", n)
    for b, d, n, reached, satisfied, resolved in rows["callbacks"]:
        for name, value in (("callbacks", n), ("reached", reached), ("satisfied", satisfied),
                            ("resolved", resolved)):
            add(b, d, name, value)
    for b, d, n in rows["inspections"]:
        t[(b, d)]["inspections_held"] += n
    for b, n in rows["inspections_overall"]:
        t[(b, None)]["inspections_held"] += n
    for b, d, *sums in rows["outcomes"]:
        for name, value in zip(("enterprises_inspected", "problems_found", "rectification_orders", "cases_filed",
                                "fines_yuan", "complaints_mediated", "losses_recovered_yuan"), sums, strict=True):
            add(b, d, name, Decimal(value or 0))
    for i, d, n, longest in rows["overdue"]:
        add(i - 1, d, "overdue_open", n)
        t[(i - 1, d)]["max_working_days_overdue"] = longest
    return t


def report_numbers(report: WeeklyReport) -> dict[tuple[int, int | None], dict[str, Any]]:
    """The same numbers from the report: every trend week overall, this week per department."""
    out: dict[tuple[int, int | None], dict[str, Any]] = {}

    def numbers(f: Any) -> dict[str, Any]:
        n: dict[str, Any] = {
            "new_cases": f.new_cases, "closed_cases": f.closed_cases, "assignments_due": f.assignments_due,
            "on_time": f.on_time, "on_time_by_extension": f.on_time_by_extension, "overdue_open": f.overdue_open,
            "acceptance_due": f.acceptance_due, "accepted_on_time": f.accepted_on_time,
            "feedback_latency_count": f.feedback_latency.count,
            "feedback_latency_median": f.feedback_latency.median_working_days,
            "acceptance_latency_count": f.acceptance_latency.count,
            "acceptance_latency_median": f.acceptance_latency.median_working_days,
            "dispatches": f.returns.dispatches, "returns": f.returns.returns,
            "returned_twice": f.returns.returned_twice, "callbacks": f.callbacks.made,
            "reached": f.callbacks.reached, "satisfied": f.callbacks.satisfied, "resolved": f.callbacks.resolved,
            "inspections_held": f.inspections_held,
            **{name: Decimal(getattr(f.outcomes, name)) for name in type(f.outcomes).model_fields},
            **{f"category:{c}": n for c, n in f.new_cases_by_category.items()},
            **{f"reason:{r}": n for r, n in f.returns.by_reason.items()},
        }
        return n

    for i, point in enumerate(report.trend):
        out[(i, None)] = numbers(point.figures)
    current = len(report.trend) - 1
    for row in report.league_table:
        out[(current, row.department.id)] = {**numbers(row.figures),
                                             "max_working_days_overdue": row.max_working_days_overdue}
    return out


def differences(report: WeeklyReport, rows: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    hand = hand_numbers(rows)
    diffs = []
    for key, mine in report_numbers(report).items():
        theirs = hand.get(key, {})
        for name, value in mine.items():
            other = theirs.get(name, None if name.endswith("_median") else 0)
            close = isinstance(value, Decimal) and abs(value - Decimal(other or 0)) < Decimal("0.01")
            if value != other and not close:
                diffs.append(f"{key} {name}: figures {value} != hand-written {other}")
    # The lists: the overdue list, repeat complaints, highlights.
    if [i.assignment_id for i in report.overdue_list] != [r[0] for r in rows["overdue_list"]]:
        diffs.append("overdue list differs")
    if [i.working_days_overdue for i in report.overdue_list] != [r[7] for r in rows["overdue_list"]]:
        diffs.append("overdue list's working days differ")
    repeated = Counter(code for code, _id in rows["repeat_complaints"])
    top = sorted(repeated.items(), key=lambda item: (-item[1], item[0]))[:len(report.repeat_complaints)]
    if report.repeat_complaint_total != len(repeated) or [r.credit_code for r in report.repeat_complaints] != [
            code for code, _n in top]:
        diffs.append("repeat complaints differ")
    if [c.id for c in report.highlights.typical_cases_closed] != [r[0] for r in rows["typical_closed"]]:
        diffs.append("typical cases differ")
    if [h.case.id for h in report.highlights.largest_outcomes] != [r[0] for r in rows["largest_outcomes"]]:
        diffs.append("largest outcomes differ")
    return diffs


# ------------------------------------------------------------------ the job (also run as a child process)


def report_job(url: str, week: IsoWeek, now: datetime, departments: int | None) -> dict[str, Any]:
    """Every artefact of the week, as the delivery builds them: the full report and each active
    department's section (`figures.weekly_reports`, what `archive.ensure_all` stores), then all
    their emails, Word files and workbooks (`render_many`, what `delivery.deliver_week` sends)."""
    from sqlmodel import Session

    from shared.db import make_engine
    from shared.reports.figures import weekly_reports
    from shared.reports.render.batch import Job, RenderStats, render_many

    settings = Settings(demo=True, database_url=url)
    engine = make_engine(url)
    sizes: Counter[str] = Counter()
    started = time.perf_counter()
    cpu_before = time.process_time()
    db_cpu: float | None = None
    try:
        with Session(engine) as session:
            backend = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            db_before = _process_cpu_s(backend)
            sections = list(weekly_reports(session, week, departments=departments, now=now, settings=settings))
            db_after = _process_cpu_s(backend)
            if db_before is not None and db_after is not None:
                db_cpu = db_after - db_before
    finally:
        engine.dispose()
    figures_s = time.perf_counter() - started
    figures_cpu = time.process_time() - cpu_before
    jobs = [(n, Job(report, rows, "zh-CN")) for n, (report, rows) in enumerate(sections)]
    stats = RenderStats()
    t0 = time.perf_counter()
    for _n, artefacts in render_many(jobs, base_url="https://gongzhi.example", timezone=settings.timezone,
                                     processes=settings.report_render_processes,
                                     parallel_rows=settings.report_render_parallel_rows, stats=stats):
        sizes["email_html"] += len(artefacts.email.html.encode())
        sizes["docx"] += len(artefacts.docx)
        sizes["xlsx"] += len(artefacts.xlsx)
    render_s = time.perf_counter() - t0
    rows = sum(len(r.assignments_due) + len(r.overdue) + len(r.callbacks) for _rep, r in sections)
    # On a shared machine the wall time is mostly waiting: the CPU the job itself used (this
    # process, its render workers, and its PostgreSQL backend, parallel workers aside) says what
    # it costs whatever the neighbours do.
    return {"sections": len(sections), "rows": rows, "total_s": round(time.perf_counter() - started, 3),
            "figures_and_rows_s": round(figures_s, 3), "render_s": round(render_s, 3),
            "render_processes": stats.processes, "render_cpu_s": round(stats.cpu_s, 3),
            "render_peak_rss_mb": round(stats.peak_rss_mb, 1),
            "job_cpu_s": round(time.process_time() - cpu_before, 3), "figures_cpu_s": round(figures_cpu, 3),
            "db_backend_cpu_s": None if db_cpu is None else round(db_cpu, 3), "bytes": dict(sizes)}


def _process_cpu_s(pid: Any) -> float | None:
    """User + system CPU seconds of a local process (the database backend), if it can be read."""
    try:
        with open(f"/proc/{int(pid)}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job_in_child(url: str, week: IsoWeek, now: datetime, departments: int | None) -> dict[str, Any]:
    """The job in a fresh interpreter; its peak resident memory is the child's ru_maxrss."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    args = [sys.executable, "-m", "bench.report_week", "--job", "--url", url, "--week", str(week),
            "--now", now.isoformat()]
    if departments is not None:
        args += ["--departments", str(departments)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest of any child so far: only meaningful if it grew or was 0.
    result["peak_rss_mb"] = round(max(peak_kb, before) / 1024, 1)
    return result


# ------------------------------------------------------------------ the run


def run(url: str | None = None, rounds: int = 3, departments: int | None = None) -> dict[str, Any]:
    from sqlmodel import Session

    from shared.db import make_engine
    from shared.reports.figures import last_complete_week, weekly_report

    url = sqlalchemy_url(url or bench_url())
    meta = read_meta(url)
    now = meta_now(meta)
    settings = Settings(demo=True, database_url=url)
    week = last_complete_week(now, settings)

    engine = make_engine(url)
    figure_times, hand_times = [], []
    report: WeeklyReport | None = None
    rows: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with closing(connect(url, autocommit=True)) as conn:
            params = hand_params(conn, week, now, settings)
            for _ in range(rounds):
                # Alternate, so both see the same cache and the same neighbours' load.
                with Session(engine) as session:
                    t0 = time.perf_counter()
                    report = weekly_report(session, week, None, now=now, settings=settings)
                    figure_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                rows = hand_written(conn, params)
                hand_times.append(time.perf_counter() - t0)
    finally:
        engine.dispose()
    assert report is not None
    diffs = differences(report, rows)
    figures_s, hand_s = min(figure_times), min(hand_times)

    job = job_in_child(url, week, now, departments)
    return {
        "week": str(week), "now": now.isoformat(), "dataset": meta.get("stats", {}),
        "figures": {"best_s": round(figures_s, 3), "runs_s": [round(x, 3) for x in figure_times]},
        "hand_written_sql": {"best_s": round(hand_s, 3), "runs_s": [round(x, 3) for x in hand_times]},
        "ratio": round(figures_s / hand_s, 2) if hand_s else None,
        "same_numbers": not diffs, "differences": diffs[:20],
        "week_figures": {"assignments_due": report.figures.assignments_due, "on_time": report.figures.on_time,
                         "overdue_open": report.figures.overdue_open, "returns": report.figures.returns.returns,
                         "callbacks": report.figures.callbacks.made, "new_cases": report.figures.new_cases,
                         "departments": len(report.league_table), "overdue_listed": len(report.overdue_list),
                         "repeat_complaints": report.repeat_complaint_total},
        "job": job,
        "targets": {"figures_ratio": FIGURES_RATIO_TARGET, "artefacts_s": ARTEFACTS_TARGET_S,
                    "peak_rss_mb": PEAK_MB_TARGET},
        "met": {"figures_ratio": bool(hand_s) and figures_s / hand_s <= FIGURES_RATIO_TARGET,
                "artefacts_s": job["render_s"] < ARTEFACTS_TARGET_S,
                "peak_rss_mb": job["peak_rss_mb"] < PEAK_MB_TARGET},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--departments", type=int, default=None, help="sections for the first N departments only")
    parser.add_argument("--job", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--week", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--now", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job:
        result = report_job(args.url, IsoWeek.parse(args.week), datetime.fromisoformat(args.now), args.departments)
        print(json.dumps(result))
        return
    out = run(rounds=args.rounds, departments=args.departments)
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()

