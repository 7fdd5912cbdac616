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
    """Median wall/CPU ms of each step of one queue request in-process (no HTTP), as the route runs them.

    Steps: the token's user (services.api.deps.get_current_user's read), the
    queue's answer (the stamp, the reader's actions on the kept rows, the kept
    body; counts, items and JSON when they no longer hold), and its gzip
    encoding at the middleware's level (kept with the body).  CPU below wall
    means waiting for PostgreSQL.
    """
    from sqlmodel import Session

    from services.api.app import GZIP_LEVEL
    from shared.assignments import queue
    from shared.users import service as users

    engine = make_engine(url)
    clock = SystemClock()
    names = ("user", "queue answer", "gzip")
    laps_of: list[dict[str, tuple[float, float]]] = []
    db_ms: list[float] = []
    statements: list[int] = []
    body = packed = b""
    try:
        for i in range(iterations + 3):
            with record(engine) as rec, Session(engine, expire_on_commit=False) as session:
                laps = _Laps()
                user = users.user_for_token(session, clock, token)
                laps.lap("user")
                answer = queue.queue_body(session, user, clock.now(), None, 50, settings)
                laps.lap("queue answer")
                body, packed = answer.json, answer.gzipped(GZIP_LEVEL) or answer.json
                laps.lap("gzip")
            if i < 3:
                continue  # warm-up: caches, compiled statements, pool
            laps_of.append(laps.laps)
            db_ms.append(rec.seconds * 1000)
            statements.append(rec.count)
    finally:
        engine.dispose()
    steps = {name: {"wall_ms": round(statistics.median(lap[name][0] for lap in laps_of), 3),
                    "cpu_ms": round(statistics.median(lap[name][1] for lap in laps_of), 3)} for name in names}
    return {"iterations": iterations, "steps": steps,
            "wall_ms": round(statistics.median(sum(w for w, _c in lap.values()) for lap in laps_of), 3),
            "cpu_ms": round(statistics.median(sum(c for _w, c in lap.values()) for lap in laps_of), 3),
            "db_ms": round(statistics.median(db_ms), 3), "statements": min(statements),
            "response_bytes": len(body), "gzip_bytes": len(packed)}


# ------------------------------------------------------------------ py-spy on the live server

# Frames that identify a step, checked from the innermost outwards (first match wins).
CATEGORIES: list[tuple[str, str]] = [
    ("working_calendar", "working calendar"),
    ("user_for_token", "the token's user (get_current_user)"),
    ("available_actions", "actions for the reader"),
    ("public_from_row", "items for the reader (body not kept yet)"),
    ("model_dump_json", "JSON (body not kept yet)"),
    ("_compress_body", "gzip"),
    ("compress (gzip.py", "gzip"),
    ("_current (shared/assignments/queue.py", "queue read (stamp; counts and items when not kept)"),
    ("queue_body (shared/assignments/queue.py", "queue answer (kept body)"),
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


