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
from pathlib import Path
from typing import Any

from bench.common import OUT
from bench.dbtime import record_queue_request
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
    """Median wall/CPU ms of one queue request in-process (no HTTP), as the route reads it.

    "hit": the process's copy of the queue is current (token + stamp, one
    statement); "miss": it is not (then stamp + counts + items and the JSON).
    CPU below wall means waiting for PostgreSQL.
    """
    import asyncio

    from shared.assignments import queue_cache

    engine = make_engine(url)
    reader = queue_cache.reader_for(engine)
    clock = SystemClock()
    loop = asyncio.new_event_loop()

    def one() -> queue_cache.Answer:
        if reader.inline:  # as the route does on PostgreSQL: on the event loop
            return loop.run_until_complete(reader.answer(clock, token, None, 50))
        return reader.answer_now(engine, clock, token, None, 50)

    steps: dict[str, dict[str, float]] = {}
    out: dict[str, Any] = {"iterations": iterations}
    try:
        for kind in ("hit", "miss"):
            timings: list[tuple[float, float]] = []
            db_ms: list[float] = []
            statements: list[int] = []
            detail: list[dict[str, Any]] = []
            for i in range(iterations + 3):
                if kind == "miss":
                    reader.cache.clear()
                one()  # a hit needs a current copy; a miss is measured after it is dropped again
                if kind == "miss":
                    reader.cache.clear()
                with record_queue_request(engine, reader) as recs:
                    laps = _Laps()
                    answer = one()
                    laps.lap(kind)
                if i < 3:
                    continue  # warm-up: caches, compiled statements, pool
                timings.append(laps.laps[kind])
                db_ms.append(sum(r.seconds for r in recs) * 1000)
                statements.append(sum(r.count for r in recs))
                detail = [{"where": st.where, "ms": round(st.seconds * 1000, 2), "sql": " ".join(st.sql.split())[:90]}
                          for r in recs for st in r.statements]
            steps[kind] = {"wall_ms": round(statistics.median(w for w, _ in timings), 3),
                           "cpu_ms": round(statistics.median(c for _, c in timings), 3)}
            out[kind] = {**steps[kind], "db_ms": round(statistics.median(db_ms), 3),
                         "statements": statements[0], "statements_detail": detail}
        out["response_bytes"] = len(answer.body)
    finally:
        loop.close()
        engine.dispose()
    out["steps"] = steps
    return out


# ------------------------------------------------------------------ py-spy on the live server

# Frames that identify a step, checked from the innermost outwards (first match wins).
CATEGORIES: list[tuple[str, str]] = [
    ("working_calendar", "working calendar"),
    ("read_queue", "queue read when the copy is not current (stamp + counts + items)"),
    ("model_dump_json", "JSON of a new copy"),
    ("read_stamps", "stamp read (token + queue stamp, one statement per batch)"),
    ("_answer", "token check, department, copy lookup"),
    ("department_queue", "queue route"),
    ("RequestResponseCycle.send", "sending the response"),
    ("solve_dependencies", "FastAPI parameters"),
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


