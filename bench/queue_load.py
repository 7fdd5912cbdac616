"""The department queue under load, against a bare FastAPI endpoint, in the same run.

    .venv/bin/python -m bench.queue_load [--workers 2] [--connections 32] [--duration 20] [--rounds 2]

Both apps are served the same way: uvicorn with an app factory and the same
number of worker processes (the real one is `services.api.app:create_app` with
GONGZHI_DATABASE_URL pointing at the bench database).  The load generator
(wrk, or an asyncio client when wrk is missing) keeps 32 connections busy,
rotating over bearer tokens of liaisons of departments with few and with many
open items; the bare run sends the same headers to `/bare`.  Rounds alternate
bare and real so a disturbance on the shared machine hits both.

Before the load: every token's queue is fetched over HTTP and checked against
a direct SQL count, and the statements one request issues are counted
in-process (TestClient, cursor events on the app's engine) for the smallest
and the largest queue: the number may not depend on the size of the queue.

Target (issue 8, section 2): ≥ 0.3× the bare endpoint's requests/s and p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlmodel import Session

from bench import loadgen, procstat, queue_profile
from bench.common import OUT, PYTHON, ROOT, bench_url, free_port, read_meta, sqlalchemy_url, stop, wait_for_port
from bench.dbtime import record
from shared.clock import SystemClock
from shared.db import make_engine
from shared.settings import Settings

TARGET_RATIO = 0.3
TARGET_P99_MS = 50.0
QUEUE = "/api/v1/queue"
# What a browser's fetch() sends.  The endpoint answers gzip to it; "queue-identity"
# measures the same endpoint for a client that accepts only uncompressed answers.
BROWSER_ENCODINGS = "gzip, deflate, br"


# ------------------------------------------------------------------ tokens and truth


def pick_liaisons(session: Session, departments: int = 8, per_department: int = 2) -> list[dict[str, Any]]:
    """Liaisons of departments across the range of queue sizes (smallest, largest and between)."""
    rows = session.execute(text(
        """SELECT d.id, count(a.id) AS open
           FROM department d LEFT JOIN assignment a
             ON a.department_id = d.id AND a.state IN ('dispatched', 'accepted', 'submitted')
           GROUP BY d.id ORDER BY open, d.id""")).all()
    if not rows:
        raise SystemExit("the bench database has no departments; generate the dataset first")
    n = len(rows)
    wanted = sorted({round(i * (n - 1) / max(1, departments - 1)) for i in range(departments)})
    picked = []
    for index in wanted:
        dept_id, open_items = rows[index]
        users = session.execute(text(
            """SELECT id FROM "user" WHERE department_id = :d AND role = 'liaison' AND active
               ORDER BY id LIMIT :n"""), {"d": dept_id, "n": per_department}).scalars().all()
        picked += [{"department_id": dept_id, "open": open_items, "user_id": u} for u in users]
    return picked


def issue_tokens(engine: Any, settings: Settings, people: list[dict[str, Any]]) -> None:
    from shared.users import service as users
    from shared.users.models import User

    with Session(engine, expire_on_commit=False) as session:
        for p in people:
            user = session.get(User, p["user_id"])
            assert user is not None
            p["token"] = users.issue_token(session, SystemClock(), settings, user)
        session.commit()


def expected_counts(session: Session, settings: Settings, department_id: int, now: datetime) -> dict[str, int]:
    """The queue's counts computed independently, straight from the table."""
    from shared.calendar.service import working_calendar

    soon = working_calendar(session, settings).add_working_days(now, settings.reminder_due_soon_working_days).at
    row = session.execute(text(
        """SELECT count(*) FILTER (WHERE state = 'dispatched'),
                  count(*) FILTER (WHERE state = 'accepted'),
                  count(*) FILTER (WHERE state IN ('dispatched', 'accepted')
                                   AND feedback_due_at >= :now AND feedback_due_at <= :soon),
                  count(*) FILTER (WHERE state IN ('dispatched', 'accepted') AND feedback_due_at < :now),
                  count(*) FILTER (WHERE state = 'awaiting_signoff'),
                  count(*) FILTER (WHERE state = 'submitted')
           FROM assignment WHERE department_id = :d"""),
        {"d": department_id, "now": now, "soon": soon}).one()
    keys = ("to_accept", "in_progress", "due_soon", "overdue", "awaiting_signoff", "awaiting_review")
    return dict(zip(keys, (int(x) for x in row), strict=True))


def check_responses(base_url: str, engine: Any, settings: Settings, people: list[dict[str, Any]]) -> dict[str, Any]:
    """Every token's queue over HTTP: 200, the right department, the right counts, ≤ 50 items."""
    checked = []
    with httpx.Client(base_url=base_url, timeout=30) as client, Session(engine) as session:
        for p in people:
            r = client.get(QUEUE, headers={"Authorization": f"Bearer {p['token']}"})
            now = datetime.now(settings.tz)
            body = r.json() if r.status_code == 200 else {}
            expected = expected_counts(session, settings, p["department_id"], now)
            active = expected["to_accept"] + expected["in_progress"]
            ok = (r.status_code == 200 and body.get("department_id") == p["department_id"]
                  and body.get("counts") == expected and len(body.get("items", [])) == min(50, active))
            checked.append({"department_id": p["department_id"], "status": r.status_code, "ok": ok,
                            "counts": body.get("counts"), "expected": expected,
                            "items": len(body.get("items", []))})
    return {"all_ok": all(c["ok"] for c in checked), "responses": checked}


def count_statements(url: str, settings: Settings, people: list[dict[str, Any]], repeat: int = 5) -> dict[str, Any]:
    """Statements per queue request, in-process, for the smallest and the largest queue.

    The fewest seen over REPEAT requests: the working calendar's own re-check
    (two small aggregates at most every few seconds per process) is not the queue's.
    """
    from fastapi.testclient import TestClient

    from services.api.app import create_app

    engine = make_engine(url)
    app = create_app(settings, engine=engine)
    smallest = min(people, key=lambda p: p["open"])
    largest = max(people, key=lambda p: p["open"])
    out: dict[str, Any] = {}
    try:
        with TestClient(app) as client:
            for label, p in (("fewest_open", smallest), ("most_open", largest)):
                headers = {"Authorization": f"Bearer {p['token']}"}
                assert client.get(QUEUE, headers=headers).status_code == 200  # warm caches
                counts: list[int] = []
                ms: list[float] = []
                db: list[float] = []
                for _ in range(repeat):
                    with record(engine) as rec:
                        started = time.perf_counter()
                        r = client.get(QUEUE, headers=headers)
                        ms.append((time.perf_counter() - started) * 1000)
                    assert r.status_code == 200, r.text
                    counts.append(rec.count)
                    db.append(rec.seconds * 1000)
                out[label] = {"department_id": p["department_id"], "open": p["open"], "statements": min(counts),
                              "by_function": rec.by_place(), "db_ms": round(statistics.median(db), 2),
                              "in_process_ms": round(statistics.median(ms), 2)}
    finally:
        engine.dispose()
    out["constant"] = out["fewest_open"]["statements"] == out["most_open"]["statements"]
    out["statements_per_request"] = out["most_open"]["statements"]
    return out


# ------------------------------------------------------------------ servers


def serve(factory: str, port: int, workers: int, url: str, log_name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_DEMO": "1", "PYTHONPATH": str(ROOT)}
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / log_name, "wb")  # noqa: SIM115 - kept open for the server's lifetime
    # uvicorn processes with a listening socket each (bench/serve.py): with --workers'
    # shared socket, one worker sometimes took all of wrk's connections.
    return subprocess.Popen(
        [PYTHON, "-m", "bench.serve", factory, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def _wait_ready(base_url: str, path: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    wait_for_port(int(base_url.rsplit(":", 1)[1]), timeout, proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base_url + path, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base_url}{path} not ready")


def _sessions(url: str | None) -> int:
    """Connections ever opened to the bench database (pg_stat_database.sessions)."""
    if url is None:
        return 0
    from bench.common import connect

    with connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


def measure(name: str, base_url: str, plan: loadgen.Plan, server: subprocess.Popen[bytes], *,
            connections: int, duration: float, tool: str, url: str | None = None,
            accept_encoding: str = BROWSER_ENCODINGS) -> dict[str, Any]:
    sessions_before = _sessions(url)
    before = procstat.snapshot(server.pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = loadgen.run(base_url, plan, connections=connections, duration=duration, tool=tool,
                         accept_encoding=accept_encoding)
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (children_after.ru_utime - children_before.ru_utime) + (
        children_after.ru_stime - children_before.ru_stime)
    if result["tool"] != "wrk":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = usage.ru_utime + usage.ru_stime  # rough: the whole process
    result["cpu"] = procstat.delta(before, procstat.snapshot(server.pid), wall, client_cpu, result["requests"])
    # New PostgreSQL connections during the run (minus the one counting them): pool churn.
    result["new_db_connections"] = max(0, _sessions(url) - sessions_before - 1) if url else None
    result["name"] = name
    print(f"  [queue] {name:14s} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:6.2f} ms  "
          f"p99 {result['p99_ms']:7.2f} ms  non-2xx {result['non_2xx']}  "
          f"(server {result['cpu']['server_cores']} cores, postgres {result['cpu']['postgres_cores']}, "
          f"client {result['cpu']['client_cores']}, other {result['cpu']['other_cores']})", flush=True)
    return result


def _median_of(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def run(url: str | None = None, *, workers: int = 2, connections: int = 32, duration: float = 20.0,
        rounds: int = 2, warmup: float = 5.0, tool: str = "auto", bare_sync: bool = True,
        departments: int = 8, profile: bool = False, breakdown_iterations: int = 40,
        identity: bool = True) -> dict[str, Any]:
    url = sqlalchemy_url(url or bench_url())
    meta = read_meta(url)
    settings = Settings(demo=True, database_url=url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            people = pick_liaisons(session, departments)
        issue_tokens(engine, settings, people)
        statements = count_statements(url, settings, people)
        largest = max(people, key=lambda p: p["open"])
        smallest = min(people, key=lambda p: p["open"])
        breakdown = {"most_open": {"open": largest["open"],
                                   **queue_profile.breakdown(url, settings, largest["token"], breakdown_iterations)},
                     "fewest_open": {"open": smallest["open"],
                                     **queue_profile.breakdown(url, settings, smallest["token"],
                                                               breakdown_iterations)}}
        for label, b in breakdown.items():
            print(f"  [queue] in-process {label} ({b['open']:,} open): {b['wall_ms']} ms wall / {b['cpu_ms']} ms CPU "
                  f"(db {b['db_ms']} ms in {b['statements']} statements; steps {b['steps']})", flush=True)
        print(f"  [queue] statements per request: {statements['statements_per_request']} "
              f"(constant across queue sizes: {statements['constant']}; fewest open "
              f"{statements['fewest_open']['open']:,}, most open {statements['most_open']['open']:,})", flush=True)

        api_port, bare_port = free_port(), free_port()
        api = serve("services.api.app:create_app", api_port, workers, url, "api-server.log")
        bare = serve("bench.bare_app:create_app", bare_port, workers, url, "bare-server.log")
        try:
            api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
            _wait_ready(api_url, "/api/v1/health", api)
            _wait_ready(bare_url, "/bare", bare)
            checks = check_responses(api_url, engine, settings, people)
            print(f"  [queue] responses checked against SQL: {'all correct' if checks['all_ok'] else 'MISMATCH'}",
                  flush=True)
            api_plan: loadgen.Plan = [(p["token"], QUEUE) for p in people]
            variants: list[tuple[str, str, loadgen.Plan, subprocess.Popen[bytes], str]] = [
                ("bare", bare_url, [(p["token"], "/bare") for p in people], bare, BROWSER_ENCODINGS)]
            if bare_sync:
                variants.append(("bare-sync", bare_url, [(p["token"], "/bare-sync") for p in people], bare,
                                 BROWSER_ENCODINGS))
            variants.append(("queue", api_url, api_plan, api, BROWSER_ENCODINGS))
            if identity:
                variants.append(("queue-identity", api_url, api_plan, api, "identity"))
            # Warm up: pools, caches, lazy imports.  0 skips it (wrk runs a second at least, whatever it is asked).
            for _name, base, plan, _proc, encodings in (variants if warmup > 0 else []):
                loadgen.run(base, plan, connections=connections, duration=warmup, tool=tool,
                            accept_encoding=encodings)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in variants}
            for _ in range(rounds):
                for name, base, plan, proc, encodings in variants:
                    runs[name].append(measure(name, base, plan, proc, connections=connections,
                                              duration=duration, tool=tool, url=url, accept_encoding=encodings))
            profiled: dict[str, Any] | None = None
            if profile:
                spy = queue_profile.record_server(api.pid, max(5, duration - 4), "queue-profile")
                if spy is None:
                    profiled = {"error": "py-spy not installed"}
                else:
                    time.sleep(1)
                    measure("profiled", api_url, api_plan, api, connections=connections, duration=duration,
                            tool=tool, url=url)
                    spy.wait(timeout=duration + 60)
                    profiled = queue_profile.summarize(OUT / "queue-profile.collapsed")
                    print(f"  [queue] py-spy (GIL holder) shares: {profiled.get('share_pct')}", flush=True)
        finally:
            stop(api)
            stop(bare)
    finally:
        engine.dispose()

    summary = {name: {"rps": _median_of(rs, "rps"), "p50_ms": _median_of(rs, "p50_ms"),
                      "p99_ms": _median_of(rs, "p99_ms"), "non_2xx": sum(r["non_2xx"] for r in rs)}
               for name, rs in runs.items()}
    ratio = round(summary["queue"]["rps"] / summary["bare"]["rps"], 3) if summary["bare"]["rps"] else 0.0
    out: dict[str, Any] = {
        "target": {"ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS},
        "dataset": {k: meta.get(k) for k in ("scale", "now", "generation_seconds")},
        "workers": workers, "connections": connections, "duration_s": duration, "rounds": rounds,
        "tool": next(iter(runs["queue"]))["tool"],
        "tokens": [{k: p[k] for k in ("department_id", "open", "user_id")} for p in people],
        "statements": statements, "breakdown": breakdown, "checks": checks, "runs": runs, "summary": summary,
        "profile": profiled,
        "ratio": ratio,
        "met": bool(ratio >= TARGET_RATIO and summary["queue"]["p99_ms"] < TARGET_P99_MS
                    and checks["all_ok"] and statements["constant"] and summary["queue"]["non_2xx"] == 0),
    }
    if "queue-identity" in summary and summary["bare"]["rps"]:
        out["ratio_identity"] = round(summary["queue-identity"]["rps"] / summary["bare"]["rps"], 3)
    if "bare-sync" in summary and summary["bare-sync"]["rps"]:
        out["ratio_vs_bare_sync"] = round(summary["queue"]["rps"] / summary["bare-sync"]["rps"], 3)
    print(f"  [queue] ratio {ratio:.2f}× bare (target ≥ {TARGET_RATIO}), queue p99 "
          f"{summary['queue']['p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f})"
          + (f"; uncompressed answers {out['ratio_identity']:.2f}×" if "ratio_identity" in out else ""), flush=True)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes for both apps")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/real rounds (median reported)")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--profile", action="store_true",
                        help="one more loaded run of the queue with py-spy sampling the API workers")
    parser.add_argument("--no-identity", dest="identity", action="store_false",
                        help="skip the queue run with uncompressed answers")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    import json

    out = run(workers=args.workers, connections=args.connections, duration=args.duration, rounds=args.rounds,
              tool=args.tool, profile=args.profile, identity=args.identity)
    print(json.dumps({k: out[k] for k in ("summary", "ratio", "ratio_identity", "met") if k in out}, indent=2))


if __name__ == "__main__":
    main()
