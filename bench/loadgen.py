"""Load generators: wrk (preferred) and an asyncio httpx client (fallback when wrk is missing).

A Python client on the same two cores competes with the server for CPU and
caps the measured rate well below what the server can do, so the fallback
is only there to keep the benchmark runnable; results say which one ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile

LUA = Path(__file__).resolve().parent / "wrk_queue.lua"

# One request: (bearer token, "s:" + session token for the pages, or None; path).
Plan = list[tuple[str | None, str]]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run(base_url: str, plan: Plan, *, connections: int, duration: float, threads: int = 1,
        tool: str = "auto", accept_encoding: str = "identity") -> dict[str, Any]:
    """`accept_encoding` is sent with every request ("identity": uncompressed answers only)."""
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return run_wrk(base_url, plan, connections=connections, duration=duration, threads=threads,
                       accept_encoding=accept_encoding)
    return run_python(base_url, plan, connections=connections, duration=duration, accept_encoding=accept_encoding)


def _summary(tool: str, requests: int, seconds: float, p50: float, p99: float, **extra: Any) -> dict[str, Any]:
    return {"tool": tool, "requests": requests, "seconds": round(seconds, 2),
            "rps": round(requests / seconds, 1) if seconds else 0.0,
            "p50_ms": round(p50, 2), "p99_ms": round(p99, 2), **extra}


def run_wrk(base_url: str, plan: Plan, *, connections: int, duration: float, threads: int = 1,
            accept_encoding: str = "identity") -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".plan", delete=False) as f:
        for token, path in plan:
            f.write(f"{token or '-'}\t{path}\n")
        plan_file = f.name
    try:
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
               "--timeout", "10s", "-s", str(LUA), base_url + plan[0][1]]
        env = {**os.environ, "WRK_PLAN": plan_file, "WRK_ACCEPT_ENCODING": accept_encoding}
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, timeout=duration + 60)
    finally:
        os.unlink(plan_file)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    lat = data["latency_us"]
    errors = data["errors"]
    return _summary("wrk", data["requests"], data["duration_us"] / 1e6, lat["p50"] / 1000, lat["p99"] / 1000,
                    p90_ms=round(lat["p90"] / 1000, 2), p95_ms=round(lat["p95"] / 1000, 2),
                    p999_ms=round(lat["p999"] / 1000, 2),
                    max_ms=round(lat["max"] / 1000, 2), mean_ms=round(lat["mean"] / 1000, 2),
                    non_2xx=errors["status"],
                    socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
                    bytes=data["bytes"], accept_encoding=accept_encoding,
                    command=" ".join(cmd[:-3] + ["bench/wrk_queue.lua", cmd[-1]]))


def run_python(base_url: str, plan: Plan, *, connections: int, duration: float,
               accept_encoding: str = "identity") -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(client: httpx.AsyncClient, offset: int, stop_at: float) -> None:
        i = offset
        while time.perf_counter() < stop_at:
            token, path = plan[i % len(plan)]
            i += 1
            headers = {}
            if token and token.startswith("s:"):
                headers["Cookie"] = f"gongzhi_session={token[2:]}"
            elif token:
                headers["Authorization"] = f"Bearer {token}"
            headers["Accept-Encoding"] = accept_encoding
            started = time.perf_counter()
            r = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - started)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            started = time.perf_counter()
            stop_at = started + duration
            await asyncio.gather(*(worker(client, i * 7, stop_at) for i in range(connections)))
            return time.perf_counter() - started

    seconds = asyncio.run(main())
    ms = [x * 1000 for x in latencies]
    return _summary("python-httpx", len(latencies), seconds, percentile(ms, 50), percentile(ms, 99),
                    p95_ms=round(percentile(ms, 95), 2),
                    non_2xx=sum(n for s, n in statuses.items() if not 200 <= s < 300), socket_errors=0,
                    statuses=statuses, accept_encoding=accept_encoding)
