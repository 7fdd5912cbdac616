"""Processes: `gongzhi worker`, `gongzhi beat`, `gongzhi mailcatcher`, and `gongzhi up` (make run).

`up` is the whole system on one machine with no servers to install: it migrates
the database, loads the demo data when GONGZHI_DEMO is on, then runs the API,
a Celery worker, Celery beat and the local mail catcher as child processes,
each line of their output prefixed with its name.  Ctrl-C (or SIGTERM) stops
them all within 5 seconds: each child gets SIGTERM, and whatever of its process
group is still there after `STOP_GRACE` seconds gets SIGKILL (a Celery worker
in the middle of a task does not make `up` hang; the task is redelivered).  If
any child dies, the others are stopped and `up` exits non-zero.

The ports are settings: the API listens on GONGZHI_PORT and the catcher on
GONGZHI_MAILCATCHER_PORT (GONGZHI_PORT + 25 by default); worker and beat open none.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from shared.settings import Settings, get_settings

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL: `up` is gone within 5 s, even on a busy machine


# ------------------------------------------------------------------ celery command lines


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", *args]


def _broker_flags(settings: Settings) -> list[str]:
    # The embedded SQL broker has no broadcast: gossip, mingle and heartbeats
    # would only log errors.
    if settings.broker_url.startswith("sqla+"):
        return ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return []


def worker_command(settings: Settings, concurrency: int | None = None, loglevel: str = "INFO",
                   extra: Sequence[str] = ()) -> list[str]:
    if concurrency is None and settings.is_sqlite:
        concurrency = 2  # one SQLite file: more writers only queue on its lock
    args = ["worker", "--loglevel", loglevel, *_broker_flags(settings)]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    return _celery(*args, *extra)


def beat_command(settings: Settings, loglevel: str = "INFO", extra: Sequence[str] = ()) -> list[str]:
    schedule_file = settings.data_dir / "celerybeat-schedule"
    return _celery("beat", "--loglevel", loglevel, "--schedule", str(schedule_file), *extra)


def api_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app",
            "--host", settings.host, "--port", str(settings.port)]


def mailcatcher_target(settings: Settings) -> tuple[str, int] | None:
    """The catcher runs when mail goes to plain SMTP on this machine (the default)."""
    parts = urlsplit(settings.smtp_url)
    if parts.scheme != "smtp" or parts.hostname not in LOCAL_HOSTS:
        return None
    return parts.hostname or "127.0.0.1", parts.port or 25


# ------------------------------------------------------------------ the mail catcher


class MailCatcher:
    """aiosmtpd handler: each message becomes an .eml file and one line on stdout."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        now = datetime.now()
        name = f"{now:%Y%m%d-%H%M%S}-{next(self._counter):05d}-{uuid.uuid4().hex[:6]}.eml"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(raw)
        tmp.rename(self.directory / name)  # readers never see half a file
        subject = str(message.get("Subject", "")).replace("\n", " ")
        to = ", ".join(envelope.rcpt_tos)
        print(f"{now:%H:%M:%S}  {subject}  → {to}  ({name})", flush=True)
        return "250 OK: caught"


def serve_mailcatcher(host: str, port: int, directory: Path) -> None:
    from aiosmtpd.smtp import SMTP

    handler = MailCatcher(directory)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, enable_SMTPUTF8=True, hostname="gongzhi-mailcatcher"),
                           host, port)
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, loop.stop)
    print(f"mail catcher on smtp://{host}:{port}, saving to {directory}", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


# ------------------------------------------------------------------ `up`


def _die_with_parent() -> None:
    """Children get SIGTERM if `up` itself is killed (Linux prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Child:
    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, width: int) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        prefix = f"{self.name:>{width}} | ".encode()
        threading.Thread(target=self._pump, args=(prefix,), daemon=True).start()

    def _pump(self, prefix: bytes) -> None:
        assert self.process is not None and self.process.stdout is not None
        out = sys.stdout.buffer
        for line in iter(self.process.stdout.readline, b""):
            out.write(prefix + line)
            out.flush()

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the child's whole process group: a worker's pool outlives its parent otherwise."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def reap(self, timeout: float) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)


def _load_demo(settings: Settings) -> Any:
    """shared.demo is optional: without it `up` starts an empty system."""
    try:
        demo = importlib.import_module("shared.demo")
    except ModuleNotFoundError as exc:
        if exc.name != "shared.demo":
            raise
        typer.echo("demo data: shared.demo not available, starting empty")
        return None
    from shared.clock import SystemClock
    from shared.db import session_scope

    with session_scope() as session:
        demo.load_demo(session, SystemClock())
    typer.echo("demo data loaded")
    return demo


def _format_logins(logins: Any) -> list[str]:
    """DEMO_LOGINS as aligned columns (a dict user → password, or rows of fields)."""
    if isinstance(logins, dict):
        rows = [[str(user), str(password)] for user, password in logins.items()]
    else:
        rows = []
        for entry in logins or []:
            if isinstance(entry, dict):
                rows.append([str(v) for v in entry.values()])
            elif isinstance(entry, list | tuple):
                rows.append([str(v) for v in entry])
            else:
                rows.append([str(entry)])
    widths = [max(len(row[i]) for row in rows if len(row) > i) for i in range(max(map(len, rows), default=0))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def run_children(children: list[Child], grace: float = STOP_GRACE) -> int:
    """Run until a signal or until one child exits; then stop the rest."""
    stopping = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    width = max(len(c.name) for c in children)
    code = 0
    try:
        for child in children:
            child.start(width)
        while not stopping.is_set():
            dead = [c for c in children if c.poll() is not None]
            if dead:
                for c in dead:
                    typer.echo(f"{c.name} exited with {c.poll()}; stopping everything", err=True)
                code = 1
                break
            stopping.wait(0.3)
    finally:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(c.poll() is None for c in children):
            time.sleep(0.05)
        for child in children:
            child.kill()
        for child in children:
            child.reap(1)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


# ------------------------------------------------------------------ commands


def register(app: typer.Typer) -> None:
    extra_args = {"allow_extra_args": True, "ignore_unknown_options": True}

    @app.command("worker", context_settings=extra_args)
    def worker(
        ctx: typer.Context,
        concurrency: Annotated[int | None, typer.Option(help="pool size (2 on SQLite, else CPUs)")] = None,
        loglevel: str = "INFO",
    ) -> None:
        """Run a Celery worker (extra arguments go to `celery worker`)."""
        command = worker_command(get_settings(), concurrency, loglevel, ctx.args)
        os.execv(command[0], command)

    @app.command("beat", context_settings=extra_args)
    def beat(ctx: typer.Context, loglevel: str = "INFO") -> None:
        """Run Celery beat — exactly one per installation."""
        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        command = beat_command(settings, loglevel, ctx.args)
        os.execv(command[0], command)

    @app.command("mailcatcher")
    def mailcatcher(
        host: Annotated[str | None, typer.Option(help="default: GONGZHI_SMTP_URL's, else 127.0.0.1")] = None,
        port: Annotated[int | None, typer.Option(
            help="default: GONGZHI_SMTP_URL's, else GONGZHI_MAILCATCHER_PORT")] = None,
    ) -> None:
        """A local SMTP server that saves every message to <data dir>/mail/*.eml."""
        settings = get_settings()
        default_host, default_port = mailcatcher_target(settings) or ("127.0.0.1", settings.mailcatcher_port)
        serve_mailcatcher(host or default_host, port or default_port, settings.data_dir / "mail")

    @app.command("up")
    def up(
        demo: Annotated[bool | None, typer.Option(help="load demo data (default: GONGZHI_DEMO)")] = None,
    ) -> None:
        """Migrate, load the demo data, and run API, worker, beat and mail catcher together."""
        from shared import migrate

        settings = get_settings()
        settings.require_secret()  # before anything starts: the API would refuse it anyway
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate.upgrade(settings.database_url)
        typer.echo("database migrated")
        demo_module = _load_demo(settings) if (settings.demo if demo is None else demo) else None

        children = [
            Child("api", api_command(settings)),
            Child("worker", worker_command(settings)),
            Child("beat", beat_command(settings)),
        ]
        target = mailcatcher_target(settings)
        if target is not None:
            children.append(Child("mail", [sys.executable, "-c", "from services.cli import main; main()",
                                           "mailcatcher", "--host", target[0], "--port", str(target[1])]))
        typer.echo(f"\n共治 Gongzhi  →  {settings.base_url}")
        if target is not None:
            typer.echo(f"mail is caught on smtp://{target[0]}:{target[1]} → {settings.data_dir / 'mail'}")
        logins = _format_logins(getattr(demo_module, "DEMO_LOGINS", None)) if demo_module else []
        if logins:
            typer.echo("demo logins:")
            for line in logins:
                typer.echo(f"  {line}")
        typer.echo("Ctrl-C stops everything.\n")
        raise typer.Exit(run_children(children))
