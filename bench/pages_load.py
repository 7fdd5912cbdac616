"""The pages and the case lists under load at 1M cases, against the bare endpoint in the same run.

    .venv/bin/python -m bench.pages_load [--workers 2] [--connections 16] [--duration 10] [--rounds 2]
                                         [--only queue-page case-page ...]

Issue 10 §13: the queue page, a case page (of the reader's own lead department,
so the complainant is shown in full and the read is audited), `/cases` and
`GET /api/v1/cases` unfiltered and with each kind of search (reference, credit
code, enterprise-name fragment, words of the title, complainant phone) must each
answer with p95 < 100 ms at 16 connections.  Both apps are served as in
bench/queue_load.py (bench/serve.py, same worker count); wrk rotates over the
sessions of liaisons of the department with the most cases, the one with the
most shared cases, a small one, and a coordinator, each with values of their
own cases to search for.  Rounds alternate bare and real so a disturbance on the
shared machine hits both; the machine's load average is recorded at each run.

Before the load, every request of every plan is made once and checked: 200, and
an exact search (reference, credit code, phone) finds the case it was taken from.

The dataset is never regenerated.  A dataset generated before the search
indexes existed gets them first (``ensure_indexes``: CREATE INDEX IF NOT EXISTS
for every index the models declare, pg_trgm included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session

from bench import loadgen
from bench.common import OUT, bench_url, connect, free_port, machine, read_meta, sqlalchemy_url, stop, write_results
from bench.queue_load import _wait_ready, issue_tokens, measure, serve
from shared.db import make_engine
from shared.settings import Settings

TARGET_P95_MS = 100.0
SEARCH_KINDS = ("reference", "credit_code", "name", "title", "phone")
PER_PERSON = 12  # distinct values per search kind and person


def ensure_indexes(url: str) -> list[dict[str, Any]]:
    """Create what the models declare and an older dataset lacks (the search's indexes, default statistics).

    Nothing is dropped or rewritten: the rows are the generator's."""
    import shared.models
    from shared.cases.models import TRIGRAM_EXTENSION

    built = []
    with connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('case_search')").fetchone()[0]:  # type: ignore[index]
            # Its rows and their order come from the cases and the night's rewrite, not from an index.
            raise SystemExit("this dataset predates case_search: generate it again (python -m bench.dataset)")
        conn.execute(TRIGRAM_EXTENSION)
        conn.execute("SET maintenance_work_mem = '256MB'")
        for table in shared.models.metadata.sorted_tables:
            for index in table.indexes:
                if conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", (index.name,)).fetchone():
                    continue
                ddl = str(CreateIndex(index, if_not_exists=True).compile(dialect=postgresql.dialect()))
                started = time.perf_counter()
                conn.execute(ddl)  # type: ignore[arg-type]
                built.append({"index": index.name, "seconds": round(time.perf_counter() - started, 1)})
                print(f"  [pages] built {index.name} in {built[-1]['seconds']} s", flush=True)
        # Datasets generated before the search stopped asking the planner to choose its plan carry finer
        # statistics on these columns, which cost each search 0.4-1.3 ms of planning: back to the default.
        raised = conn.execute(
            """SELECT count(*) FROM pg_attribute WHERE attrelid = '"case"'::regclass
               AND attname IN ('title', 'enterprise_name') AND attstattarget > 0"""
        ).fetchone()
        if built or (raised and raised[0]):
            conn.execute('ALTER TABLE "case" ALTER COLUMN title SET STATISTICS -1, '
                         "ALTER COLUMN enterprise_name SET STATISTICS -1")
            conn.execute('ANALYZE "case"')
    return built


# ------------------------------------------------------------------ who and what


def pick_people(session: Session, per_person: int = PER_PERSON) -> list[dict[str, Any]]:
    """Liaisons of the department leading most cases, of the one most shared with, of a small one; a coordinator."""
    most_lead = session.execute(text(
        'SELECT lead_department_id FROM "case" GROUP BY 1 ORDER BY count(*) DESC LIMIT 1')).scalar_one()
    most_shared = session.execute(text(
        "SELECT department_id FROM case_share WHERE department_id <> :d GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"),
        {"d": most_lead}).scalar_one()
    small = session.execute(text(
        """SELECT lead_department_id FROM "case" GROUP BY 1 HAVING count(*) >= :n
           ORDER BY count(*), lead_department_id LIMIT 1"""), {"n": per_person}).scalar_one()
    people = []
    for label, dept in (("most-lead", most_lead), ("most-shared", most_shared), ("small", small)):
        uid = session.execute(text(
            """SELECT id FROM "user" WHERE department_id = :d AND role = 'liaison' AND active ORDER BY id LIMIT 1"""),
            {"d": dept}).scalar_one()
        people.append({"label": label, "user_id": uid, "department_id": dept, "role": "liaison"})
    coordinator = session.execute(text(
        """SELECT id, department_id FROM "user" WHERE role = 'coordinator' AND active ORDER BY id LIMIT 1""")).one()
    people.append({"label": "coordinator", "user_id": coordinator[0], "department_id": coordinator[1],
                   "role": "coordinator"})
    return people


def samples(session: Session, person: dict[str, Any], per_person: int = PER_PERSON) -> dict[str, list[dict[str, Any]]]:
    """Cases of the person's own lead department (so the phone is theirs to search), recent and older."""
    rows = session.execute(text(
        """SELECT id, reference, enterprise_credit_code, enterprise_name, title, complainant_phone
           FROM "case"
           WHERE lead_department_id = :d AND enterprise_name IS NOT NULL AND complainant_phone IS NOT NULL
           ORDER BY md5(id::text) LIMIT :n"""), {"d": person["department_id"], "n": per_person}).mappings().all()
    recent = session.execute(text(
        """SELECT id FROM "case" WHERE lead_department_id = :d ORDER BY created_at DESC LIMIT :n"""),
        {"d": person["department_id"], "n": per_person}).scalars().all()
    out: dict[str, list[dict[str, Any]]] = {"case": [{"id": i} for i in recent]}
    for r in rows:
        name = r["enterprise_name"]
        # "滨江众诚金鼎汽车服务有限公司": the distinctive middle, not the district or the company form.
        fragment = name[2:6] if len(name) >= 8 else name
        words = r["title"].split("的")[-1][:4] if "的" in r["title"] else r["title"][:4]
        out.setdefault("reference", []).append({"q": r["reference"], "expect": r["reference"]})
        out.setdefault("credit_code", []).append({"q": r["enterprise_credit_code"], "expect": r["reference"]})
        out.setdefault("name", []).append({"q": fragment, "expect": None})
        out.setdefault("title", []).append({"q": words, "expect": None})
        out.setdefault("phone", []).append({"q": r["complainant_phone"], "expect": r["reference"]})
    return out


def plans(people: list[dict[str, Any]]) -> dict[str, list[tuple[str, str, str | None]]]:
    """Variant name → [(token, path, reference the answer must hold or None)]."""
    out: dict[str, list[tuple[str, str, str | None]]] = {"queue-page": [], "case-page": [], "cases-page": [],
                                                         "cases-api": []}
    for kind in SEARCH_KINDS:
        out[f"cases-page-{kind}"] = []
        out[f"cases-api-{kind}"] = []
    for p in people:
        cookie, bearer = "s:" + p["token"], p["token"]
        if p["role"] == "liaison":
            out["queue-page"].append((cookie, "/queue", None))
        out["case-page"] += [(cookie, f"/cases/{c['id']}", None) for c in p["samples"]["case"]]
        out["cases-page"].append((cookie, "/cases", None))
        out["cases-api"].append((bearer, "/api/v1/cases", None))
        for kind in SEARCH_KINDS:
            for s in p["samples"].get(kind, []):
                query = urlencode({"q": s["q"]})
                out[f"cases-page-{kind}"].append((cookie, f"/cases?{query}", s["expect"]))
                out[f"cases-api-{kind}"].append((bearer, f"/api/v1/cases?{query}", s["expect"]))
    return out


def check(base_url: str, plan: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """Every request once: 200, and an exact search finds the case its value came from."""
    bad = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for token, path, expect in plan:
            headers = ({"Cookie": f"gongzhi_session={token[2:]}"} if token.startswith("s:")
                       else {"Authorization": f"Bearer {token}"})
            r = client.get(path, headers=headers)
            if r.status_code != 200 or (expect is not None and expect not in r.text):
                bad.append({"path": path, "status": r.status_code, "expected": expect})
    return {"requests": len(plan), "failed": bad[:10], "ok": not bad}


def breakdown(url: str, settings: Settings, variants: dict[str, list[tuple[str, str, str | None]]],
              per_variant: int = 16) -> dict[str, Any]:
    """One request at a time, in-process: wall and CPU ms, database ms and statements, per variant (medians)."""
    from fastapi.testclient import TestClient

    from bench.dbtime import record
    from services.api.app import create_app

    engine = make_engine(url, statement_timeout_ms=settings.statement_timeout_ms)
    app = create_app(settings, engine=engine)
    out: dict[str, Any] = {}
    try:
        with TestClient(app) as client:
            for name, plan in variants.items():
                wall, cpu, db, count, slowest = [], [], [], [], {"ms": 0.0, "where": ""}
                for token, path, _ in (plan * per_variant)[:per_variant]:
                    headers = ({"Cookie": f"gongzhi_session={token[2:]}"} if token.startswith("s:")
                               else {"Authorization": f"Bearer {token}"})
                    with record(engine) as rec:
                        started, cpu_started = time.perf_counter(), time.process_time()
                        r = client.get(path, headers=headers)
                        wall.append((time.perf_counter() - started) * 1000)
                        cpu.append((time.process_time() - cpu_started) * 1000)
                    assert r.status_code == 200, (path, r.status_code)
                    db.append(rec.seconds * 1000)
                    count.append(rec.count)
                    top = max(rec.statements, key=lambda s: s.seconds, default=None)
                    if top is not None and top.seconds * 1000 > slowest["ms"]:
                        slowest = {"ms": round(top.seconds * 1000, 1), "where": top.where, "path": path}
                out[name] = {"wall_ms": round(statistics.median(wall), 1), "cpu_ms": round(statistics.median(cpu), 1),
                             "db_ms": round(statistics.median(db), 1), "statements": int(statistics.median(count)),
                             "max_wall_ms": round(max(wall), 1), "slowest_statement": slowest}
                print(f"  [pages] in-process {name:24s} wall {out[name]['wall_ms']:6.1f} ms  cpu "
                      f"{out[name]['cpu_ms']:6.1f} ms  db {out[name]['db_ms']:6.1f} ms in {out[name]['statements']} "
                      f"statements; max {out[name]['max_wall_ms']} ms; slowest {slowest}", flush=True)
    finally:
        engine.dispose()
    return out


# ------------------------------------------------------------------ the run


def signed_in_people(url: str, settings: Settings, per_person: int = PER_PERSON) -> list[dict[str, Any]]:
    """The plans' four people, each with PER_PERSON values of every search kind and a fresh sign-in."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            people = pick_people(session, per_person)
            for p in people:
                p["samples"] = samples(session, p, per_person)
        issue_tokens(engine, settings, people)
    finally:
        engine.dispose()
    return people


def run(url: str | None = None, *, workers: int = 2, connections: int = 16, duration: float = 10.0,
        rounds: int = 2, warmup: float = 3.0, tool: str = "auto", only: list[str] | None = None,
        breakdown_only: bool = False, per_person: int = PER_PERSON,
        breakdown_per_variant: int = 16) -> dict[str, Any]:
    """PER_PERSON values of each search kind are sampled per person, all checked; WARMUP 0 skips the warm-ups."""
    url = sqlalchemy_url(url or bench_url())
    meta = read_meta(url)
    settings = Settings(demo=True, database_url=url)
    built = ensure_indexes(url)
    people = signed_in_people(url, settings, per_person)
    variants = plans(people)
    if only:
        variants = {k: v for k, v in variants.items() if k in only}
    in_process = breakdown(url, settings, variants, per_variant=breakdown_per_variant)
    if breakdown_only:
        return {"in_process": in_process, "people": [{k: p[k] for k in ("label", "department_id")} for p in people]}

    api_port, bare_port = free_port(), free_port()
    api = serve("services.api.app:create_app", api_port, workers, url, "pages-api-server.log")
    bare = serve("bench.bare_app:create_app", bare_port, workers, url, "pages-bare-server.log")
    runs: dict[str, list[dict[str, Any]]] = {"bare": [], **{k: [] for k in variants}}
    checks: dict[str, Any] = {}
    try:
        api_url, bare_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        _wait_ready(api_url, "/api/v1/health", api)
        _wait_ready(bare_url, "/bare", bare)
        for name, plan in variants.items():
            checks[name] = check(api_url, plan)
            print(f"  [pages] {name}: {len(plan)} requests checked: "
                  f"{'all correct' if checks[name]['ok'] else checks[name]['failed']}", flush=True)
        bare_plan: loadgen.Plan = [(None, "/bare")]
        if warmup > 0:  # 0 skips the warm-up: wrk runs a second at least, whatever it is asked
            loadgen.run(bare_url, bare_plan, connections=connections, duration=warmup, tool=tool)
            for plan in variants.values():  # warm up: pools, caches, lazy imports
                loadgen.run(api_url, [(t, p) for t, p, _ in plan], connections=connections, duration=warmup,
                            tool=tool)
        for _ in range(rounds):
            for name, plan in [("bare", None), *variants.items()]:
                base, proc = (bare_url, bare) if plan is None else (api_url, api)
                load_plan = bare_plan if plan is None else [(t, p) for t, p, _ in plan]
                result = measure(name, base, load_plan, proc, connections=connections, duration=duration,
                                 tool=tool, url=url)
                result["loadavg"] = list(os.getloadavg())
                print(f"  [pages] {name:24s} p95 {result.get('p95_ms', 0):7.1f} ms  load {result['loadavg'][0]:.2f}",
                      flush=True)
                runs[name].append(result)
    finally:
        stop(api)
        stop(bare)

    def med(rs: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r.get(key, 0.0) for r in rs), 2)

    summary = {name: {"rps": med(rs, "rps"), "p50_ms": med(rs, "p50_ms"), "p95_ms": med(rs, "p95_ms"),
                      "p99_ms": med(rs, "p99_ms"), "non_2xx": sum(r["non_2xx"] for r in rs),
                      "loadavg_1m": [r["loadavg"][0] for r in rs]}
               for name, rs in runs.items() if rs}
    met = {name: s["p95_ms"] < TARGET_P95_MS and s["non_2xx"] == 0 and checks.get(name, {"ok": True})["ok"]
           for name, s in summary.items() if name != "bare"}
    return {"target": {"p95_ms": TARGET_P95_MS, "connections": connections},
            "dataset": {k: meta.get(k) for k in ("scale", "now")}, "indexes_built": built,
            "workers": workers, "connections": connections, "duration_s": duration, "rounds": rounds,
            "people": [{k: p[k] for k in ("label", "department_id", "role")} for p in people],
            "checks": checks, "in_process": in_process, "runs": runs, "summary": summary, "met": met,
            "all_met": all(met.values())}


def print_summary(out: dict[str, Any]) -> None:
    print(f"\n  {'what':26s} {'req/s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}  target p95 < "
          f"{TARGET_P95_MS:.0f} ms")
    for name, s in out["summary"].items():
        verdict = "" if name == "bare" else ("met" if out["met"][name] else "MISSED")
        print(f"  {name:26s} {s['rps']:8.1f} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} {s['p99_ms']:8.1f}  {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes for both apps")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/real rounds (median reported)")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", nargs="*", help="variants to run (queue-page, case-page, cases-api-name, …)")
    parser.add_argument("--breakdown-only", action="store_true", help="the in-process timings, no load")
    args = parser.parse_args(argv)
    url = bench_url()
    out = run(url, workers=args.workers, connections=args.connections, duration=args.duration,
              rounds=args.rounds, tool=args.tool, only=args.only, breakdown_only=args.breakdown_only)
    if args.breakdown_only:
        return
    out["machine"] = machine(url)
    path = write_results(out, OUT / "pages.json")
    print_summary(out)
    print(json.dumps({"all_met": out["all_met"], "results": str(path.relative_to(OUT.parent.parent))}))


if __name__ == "__main__":
    main()
