"""How soon a write committed elsewhere reaches this process's kept copies (shared.invalidation).

    .venv/bin/python -m bench.queue_notify [--samples 500]

A connection of its own (as psql, a worker or another API process would be)
updates one open assignment of a department — `SET version = version`, which
changes nothing but fires the trigger like any write — and commits.  From the
moment its COMMIT returns, this process asks for its kept copy the way a
request does (`Kept.get`, which first applies whatever has reached the
listener's socket) until the copy is gone.  That interval is the window in
which a request served here could still get the answer from before the write;
"at once" counts the samples where the very first ask already missed.

Writes committed through the process's own engine do not wait for this: they
drop the copies as they commit (tests/test_kept_copies.py).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

from bench.common import bench_url, connect, percentile, sqlalchemy_url
from shared import invalidation
from shared.db import make_engine


def run(url: str | None = None, *, samples: int = 500) -> dict[str, Any]:
    url = sqlalchemy_url(url or bench_url())
    engine = make_engine(url)
    load_before = os.getloadavg()
    invalidation.start(engine)
    try:
        watch = invalidation.watch(engine)
        if watch is None or not watch.wait_listening(15):
            raise SystemExit("the listener did not start (PostgreSQL only)")
        kept = invalidation.kept(engine, "bench-notify", invalidation.DEPARTMENT, 8)
        assert kept is not None
        with connect(url, autocommit=True) as writer:
            row = writer.execute("SELECT id, department_id FROM assignment WHERE state IN ('dispatched', 'accepted')"
                                 " ORDER BY id LIMIT 1").fetchone()
            if row is None:
                raise SystemExit("no open assignment in the bench database")
            assignment, department = row
            window_us: list[float] = []
            at_once = 0
            commit_us: list[float] = []
            for _ in range(samples):
                ticket = kept.ticket(department)
                assert kept.put(ticket, department, department, "kept")
                started = time.perf_counter()
                writer.execute("UPDATE assignment SET version = version WHERE id = %s", (assignment,))
                committed = time.perf_counter()
                commit_us.append((committed - started) * 1e6)
                if kept.get(department) is None:
                    at_once += 1
                while kept.get(department) is not None:
                    pass
                window_us.append((time.perf_counter() - committed) * 1e6)
    finally:
        invalidation.stop(engine)
        engine.dispose()

    def summary(values: list[float]) -> dict[str, float]:
        return {f"p{p}": round(percentile(values, p), 1) for p in (50, 90, 99)} | {"max": round(max(values), 1)}

    out = {"samples": samples, "gone_at_first_ask": at_once, "window_us": summary(window_us),
           "update_and_commit_us": summary(commit_us),
           "load_average": {"before": [round(x, 2) for x in load_before],
                            "after": [round(x, 2) for x in os.getloadavg()]}}
    print(f"  [notify] a write committed elsewhere is gone from the kept copies within "
          f"p50 {out['window_us']['p50']} µs, p99 {out['window_us']['p99']} µs, max {out['window_us']['max']} µs "
          f"of its COMMIT returning; at the first ask in {at_once} of {samples} "
          f"(load average {out['load_average']['before'][0]} → {out['load_average']['after'][0]})", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args(argv)
    print(json.dumps(run(samples=args.samples), indent=2))


if __name__ == "__main__":
    main()
