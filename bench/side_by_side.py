"""An older commit and the working tree served side by side, wrk alternating between them.

    .venv/bin/python -m bench.side_by_side --old e3ae0f3 [--alternations 4] [--duration 6]
                                           [--connections 4] [case-page cases-page-title ...]

On a shared host whose speed moves by a third within the hour, two full runs of
bench/pages_load.py cannot tell a 20 % change from the host.  Here both versions
run at once on the same dataset, one uvicorn process each (bench/serve.py), and
the same plan of bench/pages_load.py (its people, sessions and values) is sent
to each in turn, DURATION seconds at a time, the order swapped every
alternation; a disturbance then falls on both.  The old commit is checked out
into a temporary git worktree and removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.common import PYTHON, ROOT, bench_url, free_port, sqlalchemy_url
from bench.pages_load import plans, signed_in_people
from bench.queue_load import _wait_ready
from shared.settings import Settings


def _serve(root: Path, url: str, log: Path) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_DEMO": "1", "PYTHONPATH": str(root)}
    proc = subprocess.Popen([PYTHON, "-m", "bench.serve", "services.api.app:create_app", "--port", str(port),
                             "--workers", "1"], cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return port, proc


def run(old: str, variants: list[str], *, alternations: int, duration: float, connections: int,
        url: str | None = None, warmup: float = 3.0) -> dict[str, Any]:
    url = sqlalchemy_url(url or bench_url())
    every = plans(signed_in_people(url, Settings(demo=True, database_url=url)))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gongzhi-old-") as tmp:
        tree = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), old], cwd=ROOT, check=True)
        servers = {"old": _serve(tree, url, Path(tmp) / "old.log"), "new": _serve(ROOT, url, Path(tmp) / "new.log")}
        try:
            for port, proc in servers.values():
                _wait_ready(f"http://127.0.0.1:{port}", "/api/v1/health", proc)
            for variant in variants:
                plan: loadgen.Plan = [(token, path) for token, path, _ in every[variant]]
                for port, _ in servers.values():  # warm up: pools, caches, prepared statements
                    loadgen.run(f"http://127.0.0.1:{port}", plan, connections=connections, duration=warmup)
                rps: dict[str, list[float]] = {"old": [], "new": []}
                p95: dict[str, list[float]] = {"old": [], "new": []}
                failed = 0
                for i in range(alternations):
                    for name in ("old", "new") if i % 2 == 0 else ("new", "old"):
                        port = servers[name][0]
                        r = loadgen.run(f"http://127.0.0.1:{port}", plan, connections=connections, duration=duration)
                        rps[name].append(r["rps"])
                        if "p95_ms" in r:  # wrk's; the Python load generator gives p50 and p99 only
                            p95[name].append(r["p95_ms"])
                        failed += int(r.get("non_2xx", 0))
                before, after = statistics.median(rps["old"]), statistics.median(rps["new"])
                results[variant] = {"old_rps": rps["old"], "new_rps": rps["new"], "change": after / before - 1,
                                    "old_p95_ms": p95["old"], "new_p95_ms": p95["new"], "non_2xx": failed}
                tail = (f", p95 {statistics.median(p95['old']):.1f} -> {statistics.median(p95['new']):.1f} ms"
                        if p95["old"] and p95["new"] else "")
                print(f"  [side by side] {variant:24s} {before:8.1f} -> {after:8.1f} req/s "
                      f"({100 * (after / before - 1):+.1f} %){tail}  old {rps['old']} new {rps['new']}", flush=True)
        finally:
            for _, proc in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the commit to compare the working tree with")
    parser.add_argument("--alternations", type=int, default=4)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per turn")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("variants", nargs="*", default=["case-page"], help="bench/pages_load.py variants")
    args = parser.parse_args(argv)
    run(args.old, args.variants, alternations=args.alternations, duration=args.duration,
        connections=args.connections)


if __name__ == "__main__":
    main()
