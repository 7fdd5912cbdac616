"""`gongzhi mailcatcher` and `gongzhi up` (what `make run` starts), as real processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest

from shared.clock import FrozenClock
from shared.db import make_engine
from shared.outbox import relay
from shared.outbox.smtp import SmtpConfig
from shared.settings import Settings
from tests.celery_harness import REPO, free_port, wait_until, worker_env
from tests.test_outbox_relay import put, states
from workers.app import kick_relay, make_app

GONGZHI = [sys.executable, "-c", "from services.cli import main; main()"]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.exists():
            for child in children.read_text().split():
                found.add(int(child))
                todo.append(int(child))
    return found


def test_mailcatcher_saves_eml_and_prints_a_readable_line(tmp_path):
    port = free_port()
    env = worker_env(database_url=f"sqlite:///{tmp_path / 'x.db'}", broker_url="memory://",
                     smtp_url=f"smtp://127.0.0.1:{port}", data_dir=tmp_path)
    proc = subprocess.Popen([*GONGZHI, "mailcatcher"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: listening(port), 20, message="mail catcher listening")
        url = f"sqlite:///{tmp_path / 'gongzhi.db'}"
        engine = make_engine(url)
        import shared.models

        shared.models.metadata.create_all(engine)
        clock = FrozenClock(datetime.now(UTC))
        put(engine, clock, 2)
        assert relay.run(engine, clock, smtp=SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")).sent == 2
        engine.dispose()
        mail = tmp_path / "mail"
        wait_until(lambda: len(list(mail.glob("*.eml"))) == 2, 10, message="two .eml files")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0, out
    lines = [line for line in out.splitlines() if "→" in line]
    assert len(lines) == 2
    assert "【催办】3 项任务今天到期  → liaison0@gov.example" in lines[0]
    saved = message_from_bytes(sorted(mail.glob("*.eml"))[0].read_bytes(), policy=policy.default)
    assert str(saved["Subject"]) == "【催办】3 项任务今天到期"
    assert saved.get_body(("html",)) is not None  # type: ignore[attr-defined]


@pytest.mark.slow
def test_up_runs_api_worker_beat_and_mailcatcher_and_stops_them_all(tmp_path):
    api_port, smtp_port = free_port(), free_port()
    data = tmp_path / "var"
    env = worker_env(database_url="", broker_url="", smtp_url=f"smtp://127.0.0.1:{smtp_port}", data_dir=data,
                     extra={"GONGZHI_PORT": str(api_port), "GONGZHI_OUTBOX_RUN_SECONDS": "5"})
    for key in ("GONGZHI_DATABASE_URL", "GONGZHI_BROKER_URL"):  # the embedded defaults
        env.pop(key)
    proc = subprocess.Popen([*GONGZHI, "up", "--no-demo"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    output = bytearray()

    def read_some() -> str:
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        chunk = proc.stdout.read()
        if chunk:
            output.extend(chunk)
        return output.decode(errors="replace")

    try:
        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"up exited early:\n{read_some()}")
            try:
                return httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, interval=0.3, message=lambda: f"API health\n{read_some()[-3000:]}")
        wait_until(lambda: listening(smtp_port) and " ready." in read_some(), 30,
                   message=lambda: f"worker and mail catcher\n{read_some()[-3000:]}")
        text = read_some()
        assert f"http://127.0.0.1:{api_port}" in text and "database migrated" in text
        children = descendants(proc.pid)
        assert len(children) >= 4

        # Mail written to the migrated database reaches the catcher through the embedded broker.
        settings = Settings(demo=True, data_dir=data)
        engine = make_engine(settings.database_url)
        put(engine, FrozenClock(datetime.now(UTC)), 1)
        assert kick_relay(make_app(settings)) is True
        wait_until(lambda: list((data / "mail").glob("*.eml")), 30,
                   message=lambda: f"mail caught\n{read_some()[-3000:]}")
        wait_until(lambda: states(engine) == {"sent": 1}, 10)
        engine.dispose()
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(40)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, read_some()[-3000:]
    time.sleep(0.5)
    assert all(not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
               for pid in children), "every child stopped with up"


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_stopping_up_stops_every_child_within_five_seconds(tmp_path, stop_signal):
    """Ctrl-C (SIGINT) or a service manager's SIGTERM: API, worker and its pool, beat, catcher all gone in 5 s."""
    with socket.socket() as a, socket.socket() as b:  # both held open: two different ports
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        api_port, catcher_port = a.getsockname()[1], b.getsockname()[1]
    env = worker_env(database_url="", broker_url="", smtp_url="", data_dir=tmp_path / "var",
                     extra={"GONGZHI_PORT": str(api_port), "GONGZHI_MAILCATCHER_PORT": str(catcher_port)})
    for key in ("GONGZHI_DATABASE_URL", "GONGZHI_BROKER_URL", "GONGZHI_SMTP_URL"):  # the defaults
        env.pop(key)
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen([*GONGZHI, "up", "--no-demo"], cwd=tmp_path, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready() -> bool:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            try:
                api = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
            return api and listening(catcher_port) and " ready." in (tmp_path / "up.log").read_text()

        wait_until(ready, 90, interval=0.3, message=lambda: (tmp_path / "up.log").read_text()[-3000:])
        children = descendants(proc.pid)
        assert len(children) >= 5  # api, worker (+ its pool), beat, mail catcher

        os.kill(proc.pid, stop_signal)
        started = time.monotonic()

        def alive() -> set[int]:
            return {pid for pid in children | {proc.pid} if Path(f"/proc/{pid}").exists()
                    and "zombie" not in Path(f"/proc/{pid}/status").read_text()}

        while alive() and time.monotonic() - started < 10:
            proc.poll()
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert not alive() and elapsed < 5, (elapsed, alive(), (tmp_path / "up.log").read_text()[-3000:])
        assert not listening(api_port) and not listening(catcher_port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
