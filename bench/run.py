"""Run the benchmarks: generate the dataset, then the queue load test, the reminder pass, delivery.

    make bench                                   # everything, at the default 1M scale
    make bench BENCH_ARGS="--skip-generate --only queue"
    .venv/bin/python -m bench.run --cases 100000 --only queue --only reminders

Results go to bench/out/results.json (parts not run this time keep their
previous results) and a summary table is printed.  The database is
GONGZHI_BENCH_DATABASE_URL (default gongzhi_bench on the local PostgreSQL);
it is dropped and recreated unless --skip-generate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import dataset, delivery, queue_load, reminders
from bench.common import OUT, bench_url, machine, read_meta, write_results

PARTS = ("queue", "reminders", "delivery")


def _load_previous() -> dict[str, Any]:
    path = OUT / "results.json"
    try:
        previous: dict[str, Any] = json.loads(path.read_text())
        return previous
    except (OSError, ValueError):
        return {}


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(benchmark, measured, target, verdict) for the table."""
    rows: list[tuple[str, str, str, str]] = []

    def verdict(ok: Any) -> str:
        return "met" if ok else "MISSED"

    ds = results.get("dataset") or {}
    if ds:
        stats = ds.get("stats", {})
        rows.append(("dataset", f"{stats.get('cases', 0):,} cases, {stats.get('assignments', 0):,} assignments "
                     f"in {ds.get('generation_seconds')} s", "minutes, not hours", ""))
    q = results.get("queue")
    if q:
        s = q["summary"]
        rows.append(("queue req/s", f"{s['queue']['rps']:.0f} vs bare {s['bare']['rps']:.0f} "
                     f"= {q['ratio']:.2f}×", f"≥ {queue_load.TARGET_RATIO}× bare",
                     verdict(q["ratio"] >= queue_load.TARGET_RATIO)))
        rows.append(("queue p50 / p99", f"{s['queue']['p50_ms']:.1f} / {s['queue']['p99_ms']:.1f} ms "
                     f"at {q['connections']} conns", f"p99 < {queue_load.TARGET_P99_MS:.0f} ms",
                     verdict(s["queue"]["p99_ms"] < queue_load.TARGET_P99_MS)))
        st = q["statements"]
        rows.append(("queue statements", f"{st['statements_per_request']} per request "
                     f"({st['fewest_open']['open']:,} vs {st['most_open']['open']:,} open)", "constant",
                     verdict(st["constant"])))
    r = results.get("reminders")
    if r:
        rows.append(("reminder pass", f"found {r['found']:,}; db {r['db_s']:.2f} s, wall {r['wall_s']:.2f} s",
                     "< 2 s db", verdict(r["met"])))
    d = results.get("delivery")
    if d:
        rows.append(("delivery", f"relay {d['relay_msg_s']:.0f} vs plain {d['plain_loop_msg_s']['mean']:.0f} msg/s"
                     f" = {d['ratio']:.2f}×", "≥ 0.8×", verdict(d["met"])))
    return rows


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows + [("benchmark", "measured", "target", "")]) for i in range(4)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print()
    print(line.format("benchmark", "measured", "target", ""))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*r))
    print()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset.add_scale_arguments(parser)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the existing bench database")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts (repeatable)")
    queue_load.add_arguments(parser)
    parser.add_argument("--reminder-runs", type=int, default=1)
    parser.add_argument("--messages", type=int, default=2000, help="delivery benchmark size")
    parser.add_argument("--delivery-rounds", type=int, default=3)
    args = parser.parse_args(argv)
    url = bench_url()
    parts = args.only or list(PARTS)

    results = _load_previous()
    results["machine"] = machine(url)
    started = time.perf_counter()
    if not args.skip_generate:
        results["dataset"] = dataset.generate(url, dataset.scale_from(args), now=dataset.parse_now(args.now))
        results.pop("queue", None)  # measured on another dataset
        results.pop("reminders", None)
    else:
        results["dataset"] = read_meta(url)
        if not results["dataset"]:
            raise SystemExit("no dataset in the bench database: run without --skip-generate first")
    def load() -> list[float]:
        return [round(x, 2) for x in machine().get("loadavg", [])]

    if "queue" in parts:
        before = load()
        results["queue"] = queue_load.run(url, workers=args.workers, connections=args.connections,
                                          duration=args.duration, rounds=args.rounds, tool=args.tool,
                                          profile=args.profile, identity=args.identity)
        results["queue"]["loadavg"] = {"before": before, "after": load()}
    if "reminders" in parts:
        before = load()
        results["reminders"] = reminders.run(url, runs=args.reminder_runs)
        results["reminders"]["loadavg"] = {"before": before, "after": load()}
    if "delivery" in parts:
        before = load()
        results["delivery"] = delivery.run(url, messages=args.messages, rounds=args.delivery_rounds)
        results["delivery"]["loadavg"] = {"before": before, "after": load()}
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["last_run"] = {"parts": parts, "seconds": round(time.perf_counter() - started, 1),
                           "argv": argv if argv is not None else sys.argv[1:]}
    results["machine_after"] = {"loadavg": machine().get("loadavg")}
    path = write_results(results)
    print_table(summary_rows(results))
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
