"""Delivery throughput: the outbox relay against a plain smtplib loop, same SMTP server, same run.

    .venv/bin/python -m bench.delivery [--messages 2000]

An aiosmtpd sink runs in its own process.  Each round puts N digest-sized
messages in the outbox of the bench database; then, in this order: a plain
smtplib loop sends the same N messages (rendered in advance: pure SMTP) over
one connection; the relay (`shared.outbox.relay.run`) claims, sends and
settles the N rows; the plain loop runs once more.  A round's baseline is the
mean of its two plain loops, so a disturbance on the shared machine is not all
charged to the relay; the median round is reported.  The sink must have
received exactly 3 × N messages per round and every row must be `sent`; the
bench's rows are deleted afterwards, and the outbox table vacuumed before the
first round and after the last.

Target (issue 3 item 9): relay ≥ 0.8× the plain loop's messages per second.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import subprocess
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from bench.common import PYTHON, ROOT, bench_url, free_port, sqlalchemy_url, stop, vacuum, wait_for_port
from bench.dbtime import record
from shared.clock import SystemClock
from shared.db import make_engine
from shared.settings import Settings

TARGET_RATIO = 0.8
MAIL_FROM = "共治协同平台 <noreply@gongzhi.local>"
KEY_PREFIX = "bench:delivery:"


def _bodies(i: int) -> tuple[str, str, str]:
    """A digest-sized message: subject, ~1.5 KB text, ~5 KB HTML."""
    subject = f"【催办】{i % 7 + 1} 项任务今天到期，{i % 3} 项已逾期"
    lines = [f"{k + 1}. GZ-2026-{(i * 8 + k) % 999999:06d} 关于某健身预付卡退费纠纷 — 今日 17:30 到期（市场监督管理局）"
             for k in range(8)]
    body_text = "王晓梅，您好：\n\n以下任务需要您关注：\n\n" + "\n".join(lines) + "\n\n请登录共治协同平台办理。\n"
    rows = "".join(f"<tr><td>{line}</td><td><a href='http://127.0.0.1:8000/assignments/{i}'>办理</a></td></tr>"
                   for line in lines)
    body_html = (f"<html><body><h2>{subject}</h2><p>王晓梅，您好：</p><table>{rows}</table>"
                 "<p style='color:#666'>本邮件由系统自动发送，请勿直接回复。</p></body></html>")
    return subject, body_text, body_html


def start_sink(port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen([PYTHON, "-m", "bench.smtp_sink", str(port)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_port(port, 30, proc)
    return proc


def stop_sink(proc: subprocess.Popen[str]) -> dict[str, int]:
    stop(proc)
    out = proc.stdout.read() if proc.stdout else ""
    line = next((ln for ln in reversed(out.splitlines()) if ln.startswith("{")), "{}")
    return dict(json.loads(line))


def enqueue(engine: Any, run_id: str, n: int) -> None:
    from shared.outbox import service as outbox

    now = datetime.now(UTC)
    with Session(engine) as session:
        session.execute(text("DELETE FROM outbox_message WHERE dedup_key LIKE :p"), {"p": KEY_PREFIX + "%"})
        for i in range(n):
            subject, body_text, body_html = _bodies(i)
            outbox.enqueue(session, key=f"{KEY_PREFIX}{run_id}:{i}", kind="reminder.digest",
                           to_address=f"liaison{i % 500:04d}@gov.example", subject=subject,
                           body_text=body_text, body_html=body_html, now=now)
        session.commit()


def rendered(engine: Any, run_id: str) -> list[tuple[str, bytes]]:
    """The exact bytes the relay will send, rendered in advance for the plain loop."""
    from shared.outbox.smtp import Outgoing, render_message

    now = datetime.now(UTC)
    with Session(engine) as session:
        rows = session.execute(text(
            """SELECT id, dedup_key, kind, to_address, subject, body_text, body_html FROM outbox_message
               WHERE dedup_key LIKE :p ORDER BY id"""), {"p": f"{KEY_PREFIX}{run_id}:%"}).all()
    return [(r.to_address, render_message(Outgoing(*r), mail_from=MAIL_FROM, now=now)) for r in rows]


def plain_loop(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Messages per second of smtplib over one connection."""
    sender = "noreply@gongzhi.local"
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port)
    for to, data in messages:
        smtp.sendmail(sender, [to], data)
    smtp.quit()
    return len(messages) / (time.perf_counter() - started)


def other_pending(engine: Any) -> int:
    with Session(engine) as session:
        return int(session.execute(text(
            "SELECT count(*) FROM outbox_message WHERE state = 'pending' AND dedup_key NOT LIKE :p"),
            {"p": KEY_PREFIX + "%"}).scalar_one())


def _round(engine: Any, port: int, run_id: str, messages: int) -> dict[str, Any]:
    """Plain loop, relay, plain loop over the same N messages."""
    from shared.outbox import relay
    from shared.outbox.smtp import SmtpConfig

    enqueue(engine, run_id, messages)
    payloads = rendered(engine, run_id)
    before = plain_loop(port, payloads)
    policy = relay.RelayPolicy(run_seconds=3600, round_seconds=3600)
    with record(engine) as rec:
        started = time.perf_counter()
        report = relay.run(engine, SystemClock(), smtp=SmtpConfig.from_url(f"smtp://127.0.0.1:{port}"),
                           mail_from=MAIL_FROM, policy=policy)
        relay_seconds = time.perf_counter() - started
    after = plain_loop(port, payloads)
    with Session(engine) as session:
        states = dict(session.execute(text(
            "SELECT state, count(*) FROM outbox_message WHERE dedup_key LIKE :p GROUP BY state"),
            {"p": f"{KEY_PREFIX}{run_id}:%"}).all())
        session.execute(text("DELETE FROM outbox_message WHERE dedup_key LIKE :p"), {"p": KEY_PREFIX + "%"})
        session.commit()
    relay_rate = messages / relay_seconds
    baseline = (before + after) / 2
    return {
        "plain_loop_msg_s": {"before": round(before, 1), "after": round(after, 1), "mean": round(baseline, 1)},
        "relay_msg_s": round(relay_rate, 1), "relay_seconds": round(relay_seconds, 2),
        "ratio": round(relay_rate / baseline, 3),
        "relay_report": report.as_dict(), "relay_db_s": round(rec.seconds, 3), "relay_statements": rec.count,
        "relay_db_by_function": rec.by_place(), "row_states": states,
        "message_bytes": round(sum(len(d) for _, d in payloads) / max(1, len(payloads))),
    }


def run(url: str | None = None, messages: int = 2000, rounds: int = 3) -> dict[str, Any]:
    url = sqlalchemy_url(url or bench_url())
    engine = make_engine(url)
    Settings(demo=True, database_url=url)  # fails early on a bad configuration
    run_id = uuid.uuid4().hex[:8]
    port = free_port()
    sink = start_sink(port)
    results: list[dict[str, Any]] = []
    try:
        if other_pending(engine):
            raise SystemExit("the bench outbox holds pending messages that are not the benchmark's")
        vacuum(engine, "outbox_message")  # each round deletes its thousands of rows
        for i in range(rounds):
            r = _round(engine, port, f"{run_id}-{i}", messages)
            results.append(r)
            print(f"  [delivery] round {i + 1}: plain smtplib {r['plain_loop_msg_s']['before']:.0f}/"
                  f"{r['plain_loop_msg_s']['after']:.0f} msg/s, relay {r['relay_msg_s']:.0f} msg/s "
                  f"(db {r['relay_db_s']:.2f}s in {r['relay_statements']} statements), ratio {r['ratio']:.2f}",
                  flush=True)
        vacuum(engine, "outbox_message")
    finally:
        received = stop_sink(sink)
        engine.dispose()
    median = sorted(results, key=lambda r: r["ratio"])[len(results) // 2]
    delivered = (received.get("messages") == 3 * messages * rounds
                 and all(r["row_states"] == {"sent": messages} and r["relay_report"]["sent"] == messages
                         for r in results))
    out = {
        "target_ratio": TARGET_RATIO, "messages": messages, "rounds": rounds,
        "message_bytes": median["message_bytes"],
        "plain_loop_msg_s": median["plain_loop_msg_s"], "relay_msg_s": median["relay_msg_s"],
        "ratio": median["ratio"], "ratios": [r["ratio"] for r in results],
        "relay_report": median["relay_report"], "relay_db_s": median["relay_db_s"],
        "relay_statements": median["relay_statements"], "relay_db_by_function": median["relay_db_by_function"],
        "row_states": median["row_states"], "sink_received": received, "all_delivered": delivered,
        "rounds_detail": results,
    }
    out["met"] = bool(out["ratio"] >= TARGET_RATIO and delivered)
    print(f"  [delivery] median ratio {out['ratio']:.2f} of {out['ratios']} (target ≥ {TARGET_RATIO}); "
          f"sink got {received.get('messages')} of {3 * messages * rounds}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    out = run(messages=args.messages, rounds=args.rounds)
    print(json.dumps({k: v for k, v in out.items() if k not in ("relay_db_by_function", "rounds_detail")},
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
