"""Real services for worker tests: a Celery worker process, an SMTP sink, a private Redis.

Nothing here is a mock.  Typical use::

    from tests.celery_harness import CeleryWorker, SmtpSink, redis_test_url, wait_until

    def test_relay_through_a_real_worker(postgres_database, tmp_path):
        broker = redis_test_url(db=14)          # skips (or fails in CI) without Redis
        with SmtpSink() as sink, CeleryWorker(
            database_url=postgres_database, broker_url=broker, smtp_url=sink.url, data_dir=tmp_path,
        ) as worker:
            ...write outbox rows and commit...
            worker.send("outbox.relay")          # or worker.kick_relay()
            wait_until(lambda: len(sink.messages) == 3, timeout=20)

`CeleryWorker` starts `python -m celery -A workers.app worker` in its own
process group, with GONGZHI_* variables pointing at the test database, broker
and SMTP sink (pass more through `env=`, e.g. GONGZHI_OUTBOX_BACKOFF_SECONDS).
Each worker consumes a queue of its own (``worker.queue``), so tests running
at the same time on one Redis never take each other's tasks; `worker.client`
is a Celery app that publishes to that queue (`worker.send(name, **kwargs)`,
`worker.kick_relay()`).  `start()` returns once the worker answers a ping (or,
on a broker without broadcast such as the SQLite transport, once it logs
"ready"); `worker.ping()` asks again later.  `stop()` is a warm shutdown
(SIGTERM), `kill()` is `kill -9` of the whole process group — a crash.
`worker.log()` returns what it printed, for assertion messages.

`SmtpSink` is an aiosmtpd server on 127.0.0.1 (an ephemeral port) recording
each message (`sink.messages`, `sink.message_ids()`, `sink.duplicates()`,
`sink.wait_for(n)`); it can speak STARTTLS or SMTPS with a trustme
certificate, require AUTH, answer scripted 4xx/5xx replies (`script`,
`always`), be slow (`delay`, applied after the message is kept, like an MTA
that queues before it answers), and be stopped and started again on the same
port (a mail server outage).

`RedisServer` is a private `redis-server` on a random port, for tests that
restart Redis without disturbing the machine's one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from celery import Celery

from shared.settings import Settings

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05,
               message: str | Callable[[], str] = "condition") -> Any:
    """Poll until predicate() is truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {text}")
        time.sleep(interval)


def redis_test_url(db: int = 14) -> str:
    """A clean Redis database for one test's broker; skips if Redis is down.

    A run given its own database (GONGZHI_TEST_REDIS_URL) keeps every such test in it: tests run
    one at a time and each starts from an empty database, so two runs side by side (a session's
    and CI's) never deliver each other's tasks.  Under pytest-xdist each worker process runs its
    tests one at a time too, so each keeps to a database of its own (14, 13, … by its number);
    otherwise each test uses database `db`.
    """
    import redis

    from tests.conftest import REDIS_URL, missing_service

    own = os.environ.get("GONGZHI_TEST_REDIS_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … when the suite runs on several processes
    if worker is not None:
        db = 14 - int(worker.removeprefix("gw"))
    url = own or f"{REDIS_URL.rsplit('/', 1)[0]}/{db}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        missing_service(f"Redis not reachable at {url}: {exc.__class__.__name__}")
    return url


# ------------------------------------------------------------------ SMTP sink


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    peer: Any

    @functools.cached_property
    def message(self) -> EmailMessage:
        # Parsed on first use: the standard parser costs milliseconds, and a
        # server that parses while it receives would be the slowest thing in a benchmark.
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    @functools.cached_property
    def message_id(self) -> str:
        head = self.raw.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                return line.split(b":", 1)[1].strip().decode()
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class TlsFiles:
    """A private CA and a certificate for 127.0.0.1/localhost (trustme)."""

    server_context: ssl.SSLContext
    ca_file: Path

    @classmethod
    def create(cls, directory: Path | None = None) -> TlsFiles:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        directory = directory or Path(tempfile.mkdtemp(prefix="gongzhi-tls-"))
        ca_file = directory / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        return cls(context, ca_file)


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.sink._scripted(address, "rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            reply = self.sink._scripted(address, "data")
            if reply:
                return reply
        raw = bytes(envelope.original_content or envelope.content or b"")  # type: ignore[arg-type]
        received = Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw, session.peer)
        if self.sink.on_message is not None:
            self.sink.on_message(received)
        # Like a real MTA: the message is queued first, the "250" comes after —
        # a client that gives up (or dies) while waiting has still delivered it.
        with self.sink._lock:
            self.sink.messages.append(received)
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives.

    security: "plain", "starttls" (required before MAIL) or "tls" (SMTPS).
    users: {"name": "password"} turns on AUTH (required).
    delay: seconds the server waits, after keeping a message, before answering its DATA.
    on_message: called (in the server thread) with each message before it is accepted.
    """

    def __init__(self, *, security: str = "plain", users: dict[str, str] | None = None,
                 delay: float = 0.0, port: int | None = None, tls: TlsFiles | None = None,
                 on_message: Callable[[Received], None] | None = None) -> None:
        self.security = security
        self.users = users
        self.delay = delay
        self.port = port or free_port()
        self.on_message = on_message
        self.tls = tls if tls is not None or security == "plain" else TlsFiles.create()
        self.messages: list[Received] = []
        self.auth_failures = 0
        self._lock = threading.Lock()
        self._script: dict[tuple[str, str], list[str]] = {}
        self._controller: Controller | None = None

    # scripted replies: each call to script() queues replies for that address
    def script(self, address: str, *replies: str, stage: str = "data") -> None:
        """Answer the next len(replies) deliveries to `address` with these replies ("451 …")."""
        with self._lock:
            self._script.setdefault((address, stage), []).extend(replies)

    def always(self, address: str, reply: str, stage: str = "rcpt") -> None:
        self.script(address, *([reply] * 10_000), stage=stage)

    def _scripted(self, address: str, stage: str) -> str | None:
        with self._lock:
            queue = self._script.get((address, stage))
            return queue.pop(0) if queue else None

    def _authenticate(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.users is not None:
            user = auth_data.login.decode()
            if self.users.get(user) == auth_data.password.decode():
                return AuthResult(success=True)
        self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    @property
    def url(self) -> str:
        """A GONGZHI_SMTP_URL reaching this sink (credentials of the first user, if any)."""
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.security]
        creds = ""
        if self.users:
            from urllib.parse import quote

            name, password = next(iter(self.users.items()))
            creds = f"{quote(name, safe='')}:{quote(password, safe='')}@"
        query = f"?cafile={self.tls.ca_file}" if self.tls is not None else ""
        return f"{scheme}://{creds}127.0.0.1:{self.port}{query}"

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        if self.security == "starttls":
            assert self.tls is not None
            kwargs.update(tls_context=self.tls.server_context, require_starttls=True)
        if self.security == "tls":
            assert self.tls is not None
            kwargs.update(ssl_context=self.tls.server_context)
        if self.users is not None:
            # aiosmtpd only knows about STARTTLS; an SMTPS session is encrypted from the start.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.security == "starttls")
        controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                ready_timeout=10, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until start() again."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # what arrived
    def message_ids(self) -> list[str]:
        with self._lock:
            return [m.message_id for m in self.messages]

    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def connections(self) -> int:
        """How many SMTP sessions delivered at least one message."""
        with self._lock:
            return len({m.peer for m in self.messages})

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        wait_until(lambda: len(self.messages) >= count, timeout,
                   message=lambda: f"{count} messages (got {len(self.messages)})")
        return list(self.messages)


# ------------------------------------------------------------------ Celery worker


def worker_env(*, database_url: str, broker_url: str, smtp_url: str, data_dir: Path,
               extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_")}
    env.update(
        GONGZHI_DATABASE_URL=database_url,
        GONGZHI_BROKER_URL=broker_url,
        GONGZHI_SMTP_URL=smtp_url,
        GONGZHI_DATA_DIR=str(data_dir),
        GONGZHI_DEMO="1",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


class CeleryWorker:
    """A real `celery -A workers.app worker` process consuming a queue of its own."""

    def __init__(self, *, database_url: str, broker_url: str, smtp_url: str, data_dir: Path,
                 env: dict[str, str] | None = None, concurrency: int = 2, pool: str = "prefork",
                 queue: str | None = None, loglevel: str = "INFO") -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker_url = broker_url
        self.env = worker_env(database_url=database_url, broker_url=broker_url, smtp_url=smtp_url,
                              data_dir=self.data_dir, extra=env)
        self.concurrency = concurrency
        self.pool = pool
        self.loglevel = loglevel
        self.queue = queue or f"gongzhi-test-{uuid.uuid4().hex[:8]}"
        self.nodename = f"{self.queue}@{socket.gethostname()}"
        self.log_path = self.data_dir / f"{self.queue}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.client = self._client(database_url)

    def _client(self, database_url: str) -> Celery:
        from workers.app import make_app

        client = make_app(Settings(demo=True, broker_url=self.broker_url, database_url=database_url,
                                   data_dir=self.data_dir))
        client.conf.task_default_queue = self.queue
        return client

    @property
    def supports_broadcast(self) -> bool:
        return self.broker_url.startswith(("redis://", "rediss://", "amqp://"))

    def command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "workers.app", "worker",
                "--loglevel", self.loglevel, "--pool", self.pool, "--concurrency", str(self.concurrency),
                "-Q", self.queue, "-n", self.nodename, "--without-gossip", "--without-mingle"]

    def start(self, timeout: float = 30.0) -> CeleryWorker:
        assert self.process is None or self.process.poll() is not None, "worker already running"
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        log.write(f"\n===== start #{self.starts} =====\n".encode())
        log.flush()
        self.process = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        marker = f"===== start #{self.starts} ====="

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            if self.supports_broadcast:
                return self.ping(timeout=0.5)
            return " ready." in self.log().rpartition(marker)[2]

        wait_until(ready, timeout, interval=0.2, message=lambda: f"worker ready\n{self.log()[-3000:]}")
        return self

    def ping(self, timeout: float = 1.0) -> bool:
        """True when the worker answers a broadcast ping (over a fresh broker connection)."""
        try:
            with self.client.connection() as conn:
                return bool(self.client.control.ping(destination=[self.nodename], timeout=timeout,
                                                     connection=conn))
        except Exception:  # noqa: BLE001 - a broker that is away means "no answer"
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown: finish the running task, then exit (SIGKILL after `timeout`)."""
        if not self.alive():
            self._reap_group()
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(5)
        self._reap_group()

    def kill(self) -> None:
        """`kill -9` the worker and its pool processes at once: a crash, nothing cleaned up."""
        self._signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def _reap_group(self) -> None:
        # Pool children that outlived their parent must not keep consuming.
        self._signal_group(signal.SIGKILL)

    def send(self, task_name: str, **kwargs: Any) -> None:
        self.client.send_task(task_name, kwargs=kwargs, queue=self.queue)

    def kick_relay(self) -> bool:
        from workers.app import kick_relay

        return kick_relay(self.client)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        self.client.close()


# ------------------------------------------------------------------ a private Redis


class RedisServer:
    """`redis-server` on a random port, no persistence: restart it at will."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(up, 10, message=f"redis-server on port {self.port}")
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
