"""Where a queue request's time goes: an in-process step breakdown, and py-spy on the live server.

The breakdown replays what GET /api/v1/queue does, step by step, on one
thread with no HTTP and no contention, and reports the median wall time and
CPU time of each step (CPU < wall means waiting for PostgreSQL).  The py-spy
profile samples only the thread holding the GIL in the running uvicorn
workers, so it shows where the server's CPU goes under load, grouped into the
same steps.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bench.common import OUT
from bench.dbtime import record
from shared.clock import SystemClock
from shared.db import make_engine
from shared.settings import Settings


class _Laps:
    """Wall and CPU (this thread) milliseconds between successive laps."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.thread_time()
        self.laps: dict[str, tuple[float, float]] = {}

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        before = self.laps.get(name, (0.0, 0.0))
        self.laps[name] = (before[0] + (wall - self.wall) * 1000, before[1] + (cpu - self.cpu) * 1000)
        self.wall, self.cpu = wall, cpu


def breakdown(url: str, settings: Settings, token: str, iterations: int = 40) -> dict[str, Any]:
    """Median wall/CPU ms per step of one queue request, replayed in-process as the route does it."""
    from pydantic import TypeAdapter

    from shared.assignments import queries
    from shared.assignments.schemas import QueueOut
    from shared.calendar.service import working_calendar
    from shared.users import service as users

    engine = make_engine(url)
    clock = SystemClock()
    adapter = TypeAdapter(QueueOut)
    steps: dict[str, list[tuple[float, float]]] = {}
    db_ms: list[float] = []
    statements: list[int] = []
    size = 0
    try:
        for i in range(iterations + 3):
            with record(engine) as rec:
                laps = _Laps()
                session = Session(engine, expire_on_commit=False)
                session.connection()  # pool checkout (+ pre-ping)
                laps.lap("session + pool checkout (pre-ping) + close")
                user = users.user_for_token(session, clock, token)
                laps.lap("token lookup (user_for_token)")
                dept, counts, items = queries.queue(session, user, clock.now(), None, 50)
                laps.lap("queue(): calendar check, counts + items queries, ORM rows, to_public")
                out = adapter.validate_python(QueueOut(department_id=dept, counts=counts, items=items))
                laps.lap("response model (QueueOut) build + validation")
                body = adapter.dump_json(out)
                laps.lap("JSON serialization")
                session.close()
                laps.lap("session + pool checkout (pre-ping) + close")
            # The calendar check queue() makes, timed on its own.
            with Session(engine) as other:
                other.connection()
                calendar = _Laps()
                working_calendar(other, settings)
                calendar.lap("  of which: working calendar (fingerprint check)")
            if i < 3:
                continue  # warm-up: caches, compiled statements, pool
            for name, value in {**laps.laps, **calendar.laps}.items():
                steps.setdefault(name, []).append(value)
            steps.setdefault("total", []).append((sum(w for w, _ in laps.laps.values()),
                                                  sum(c for _, c in laps.laps.values())))
            db_ms.append(rec.seconds * 1000)
            statements.append(rec.count)
            size = len(body)
        with Session(engine) as session, record(engine) as rec:
            user = users.user_for_token(session, clock, token)
            queries.queue(session, user, clock.now(), None, 50)
        per_statement = [{"where": s.where, "ms": round(s.seconds * 1000, 2),
                          "sql": " ".join(s.sql.split())[:90]} for s in rec.statements]
    finally:
        engine.dispose()
    table = {name: {"wall_ms": round(statistics.median(w for w, _ in v), 2),
                    "cpu_ms": round(statistics.median(c for _, c in v), 2)} for name, v in steps.items()}
    return {"iterations": iterations, "steps": table, "db_ms": round(statistics.median(db_ms), 2),
            "statements": statements[0] if statements else None, "response_bytes": size,
            "statements_detail": per_statement}


# ------------------------------------------------------------------ py-spy on the live server

# Frames that identify a step, checked from the innermost outwards (first match wins).
CATEGORIES: list[tuple[str, str]] = [
    ("user_for_token", "token lookup"),
    ("working_calendar", "working calendar"),
    ("to_public", "to_public (pydantic models of rows)"),
    ("_fetchall_impl", "ORM row loading"),
    ("Result.all", "ORM row loading"),
    ("queue (shared/assignments/queries.py", "queue queries (compile + execute)"),
    ("department_queue", "queue queries (compile + execute)"),
    ("serialize_response", "response validation + JSON"),
    ("dump_json", "response validation + JSON"),
    ("get_session", "session open/close"),
    ("Session.close", "session open/close"),
    ("_do_ping", "pool pre-ping"),
    ("solve_dependencies", "FastAPI dependencies"),
    ("httptools_impl", "uvicorn/starlette/asyncio"),
    ("Runner.run", "uvicorn/starlette/asyncio"),
    ("WorkerThread", "threadpool handoff"),
]


def pyspy_available() -> str | None:
    venv = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    return str(venv) if venv.exists() else shutil.which("py-spy")


def record_server(pid: int, seconds: float, name: str) -> subprocess.Popen[bytes] | None:
    """Start py-spy (GIL holder only, all worker processes) for SECONDS; None if unavailable."""
    pyspy = pyspy_available()
    if pyspy is None:
        return None
    OUT.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [pyspy, "record", "--pid", str(pid), "--subprocesses", "--gil", "--nonblocking", "--rate", "200",
         "--duration", str(int(seconds)), "--format", "raw", "--output", str(OUT / f"{name}.collapsed")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(path: Path) -> dict[str, Any]:
    """Share of GIL-held samples per step (innermost matching frame decides)."""
    if not path.exists():
        return {"error": f"{path} missing"}
    totals: Counter[str] = Counter()
    hot: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        label = "other"
        for frame in reversed(frames):
            match = next((cat for key, cat in CATEGORIES if key in frame), None)
            if match:
                label = match
                break
        totals[label] += n
        leaf = re.sub(r":\d+\)$", ")", frames[-1])
        hot[leaf] += n
    share = {k: round(100 * v / total, 1) for k, v in totals.most_common()} if total else {}
    top = [{"frame": k, "pct": round(100 * v / total, 1)} for k, v in hot.most_common(15)] if total else []
    return {"samples": total, "share_pct": share, "hottest_leaf_frames": top, "file": str(path)}


# ------------------------------------------------------------------ an index that would serve the items query

SUGGESTED_INDEX = ("CREATE INDEX bench_ix_assignment_active_due ON assignment (department_id, feedback_due_at, id) "
                   "WHERE state IN ('dispatched', 'accepted')")
ITEMS_SQL = """
SELECT a.*, c.reference, c.title FROM assignment a JOIN "case" c ON c.id = a.case_id
WHERE a.department_id = %(d)s AND a.state IN ('dispatched', 'accepted')
ORDER BY a.feedback_due_at, a.id LIMIT 50"""


def drop_suggested_index(url: str) -> None:
    """A run killed while the prototype measured must not leave the index for the real endpoint."""
    from bench.common import connect

    with connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX IF EXISTS bench_ix_assignment_active_due")


@contextmanager
def suggested_index(url: str) -> Iterator[None]:
    """The partial index, present only while the block runs (for the lean prototype's runs)."""
    from bench.common import connect

    with connect(url, autocommit=True) as conn:
        conn.execute(SUGGESTED_INDEX)  # type: ignore[arg-type]
        conn.execute("ANALYZE assignment")
    try:
        yield
    finally:
        with connect(url, autocommit=True) as conn:
            conn.execute("DROP INDEX IF EXISTS bench_ix_assignment_active_due")
            conn.execute("ANALYZE assignment")


def _execution_ms(cur: Any, sql: str, params: dict[str, Any]) -> tuple[float, list[str]]:
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan = [r[0] for r in cur.fetchall()]
    line = next((ln for ln in plan if ln.startswith("Execution Time")), "Execution Time: nan ms")
    return float(line.split(":")[1].strip().split()[0]), plan


def index_experiment(url: str, department_id: int) -> dict[str, Any]:
    """The items query for one department, as is and with a partial index (created and rolled back)."""
    from bench.common import connect

    with connect(url) as conn, conn.cursor() as cur:
        params = {"d": department_id}
        runs = [_execution_ms(cur, ITEMS_SQL, params) for _ in range(3)]
        before, plan_before = min(runs, key=lambda r: r[0])
        started = time.perf_counter()
        cur.execute(SUGGESTED_INDEX)  # type: ignore[arg-type]
        cur.execute("ANALYZE assignment")
        build_s = time.perf_counter() - started
        runs = [_execution_ms(cur, ITEMS_SQL, params) for _ in range(3)]
        after, plan_after = min(runs, key=lambda r: r[0])
        conn.rollback()  # DDL is transactional: the bench schema stays the app's
    return {"department_id": department_id, "index": SUGGESTED_INDEX, "items_query_ms": before,
            "items_query_ms_with_index": after, "index_build_s": round(build_s, 2),
            "plan": plan_before, "plan_with_index": plan_after}
