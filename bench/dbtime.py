"""Statement counting and timing through SQLAlchemy cursor events.

Each statement is attributed to the innermost function of the project
(shared/, services/) on the call stack, so a report can say which step of a
use case spent the database time.  The duration is measured around the DBAPI
execute: server execution plus transferring the result, not the Python work
that turns rows into objects afterwards.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_PROJECT = str(Path(__file__).resolve().parent.parent)
_OURS = tuple(f"{_PROJECT}/{d}/" for d in ("shared", "services"))


@dataclass
class Statement:
    where: str
    sql: str
    params: Any
    seconds: float


@dataclass
class Recorder:
    statements: list[Statement] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.statements)

    def by_place(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(lambda: {"statements": 0, "ms": 0.0})
        for s in self.statements:
            out[s.where]["statements"] += 1
            out[s.where]["ms"] += s.seconds * 1000
        return {k: {"statements": int(v["statements"]), "ms": round(v["ms"], 1)}
                for k, v in sorted(out.items(), key=lambda kv: -kv[1]["ms"])}


def _caller() -> str:
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_OURS):
            module = filename[len(_PROJECT) + 1 :].removesuffix(".py").replace("/", ".")
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


@contextmanager
def record(engine: Engine) -> Iterator[Recorder]:
    """Record every statement executed on ENGINE while the block runs."""
    recorder = Recorder()

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append((time.perf_counter(), _caller()))

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        started, where = conn.info["bench_started"].pop()
        # Only SELECTs keep their parameters (to be explained later); a pass inserts millions of values.
        keep = parameters if statement.lstrip()[:6].upper() == "SELECT" else None
        recorder.statements.append(Statement(where, statement, keep, time.perf_counter() - started))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield recorder
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
