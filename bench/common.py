"""What every benchmark shares: the bench database URL, its metadata, timers, the machine.

The generator stores what it built (scale, the benchmark's `now`, timings) as
the comment of the bench database, so a later `--skip-generate` run measures
against the same `now` the dataset was shaped for.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

os.environ.setdefault("GONGZHI_DEMO", "1")  # the settings refuse the demo secret otherwise

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gongzhi_bench"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable


def bench_url() -> str:
    return os.environ.get("GONGZHI_BENCH_DATABASE_URL", DEFAULT_URL)


def sqlalchemy_url(url: str) -> str:
    """The form shared.db expects (postgresql+psycopg://)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def libpq_url(url: str) -> str:
    """The form psycopg expects (postgresql://)."""
    u = make_url(sqlalchemy_url(url)).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(sqlalchemy_url(url)).database
    if not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"bench database name must be [A-Za-z0-9_]+, got {name!r}")
    return name


def admin_url(url: str) -> str:
    """The same server, database `postgres` (to drop and create the bench database)."""
    u = make_url(sqlalchemy_url(url)).set(drivername="postgresql", database="postgres")
    return u.render_as_string(hide_password=False)


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(libpq_url(url), **kwargs)


# ------------------------------------------------------------------ metadata


def read_meta(url: str) -> dict[str, Any]:
    """What the generator stored about the dataset (empty if none)."""
    with closing(connect(url, autocommit=True)) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    if not row or not row[0]:
        return {}
    try:
        meta: dict[str, Any] = json.loads(row[0])
    except ValueError:
        return {}
    return meta


def write_meta(url: str, meta: dict[str, Any]) -> None:
    name = database_name(url)
    with closing(connect(url, autocommit=True)) as conn:
        text = json.dumps(meta, ensure_ascii=False, default=str).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{text}'")  # type: ignore[arg-type]


def meta_now(meta: dict[str, Any]) -> datetime:
    if "now" not in meta:
        raise SystemExit("the bench database has no dataset metadata; run without --skip-generate first")
    return datetime.fromisoformat(meta["now"])


# ------------------------------------------------------------------ timing


class Timer:
    """Named wall-clock steps, printed as they finish."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.steps: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - started
            self.steps[name] = round(took, 3)
            print(f"  [{self.label}] {name}: {took:.2f}s", flush=True)

    @property
    def total(self) -> float:
        return round(sum(self.steps.values()), 3)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ------------------------------------------------------------------ processes


def vacuum(engine: Any, *tables: str) -> None:
    """VACUUM what a benchmark wrote and deleted or rolled back.

    A bench server may run without autovacuum (this machine's does): the dead
    row versions of every earlier run then stay in the tables and their unique
    indexes, and each later run is measured against them.
    """
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {', '.join(tables)}"))


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate a process we started (by its own handle) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


# ------------------------------------------------------------------ machine


def machine(url: str | None = None) -> dict[str, Any]:
    """CPU model, cores, RAM, PostgreSQL and Python versions, load at the time of the run."""
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["cores"] = os.cpu_count()
    try:
        mem = Path("/proc/meminfo").read_text()
        m = re.search(r"^MemTotal:\s*(\d+) kB", mem, re.M)
        if m:
            info["ram_gb"] = round(int(m.group(1)) / 1024 / 1024, 1)
    except OSError:
        pass
    with suppress(OSError):
        info["loadavg"] = list(os.getloadavg())
    if url:
        try:
            with closing(connect(url, autocommit=True)) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                info["postgresql"] = row[0] if row else None
                settings = {}
                for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_connections"):
                    r = conn.execute(f"SHOW {name}").fetchone()  # type: ignore[arg-type]
                    settings[name] = r[0] if r else None
                info["postgresql_settings"] = settings
        except psycopg.Error as exc:
            info["postgresql"] = f"unreachable: {exc.__class__.__name__}"
    return info


def write_results(results: dict[str, Any], path: Path | None = None) -> Path:
    path = path or OUT / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    return path
