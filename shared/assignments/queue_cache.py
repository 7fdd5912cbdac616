"""The department queue, kept in memory per process and checked against the database on every read.

Computing a queue means counting a department's open items (thousands for the
largest).  Reading it is far more frequent than changing it, so each process
keeps the answer — counts and first page, already serialised — per
(department, limit), and a request needs only

    the token's user (plain columns) + the department's queue stamp

to know who is asking, whether they may see that queue, and whether anything
it shows changed since the answer was computed.

Never wrong:

* Data.  Every committed change a queue shows bumps the department's stamp in
  the same transaction (shared.assignments.queue_stamps).  A kept answer is
  served only if it was computed at the stamp the database has now, read after
  the request arrived; stamp, counts and items of an answer come from one
  statement (one snapshot).  So a liaison who accepts an assignment and
  reloads sees it moved, whichever process answers.  Each process keeps its
  own answers; the stamp in the database is what they agree on.
* Time.  Counts and flags depend on `now`: an answer is served only from the
  instant it was computed up to the first due time among its items that `now`
  had not passed (QueueRead.holds_through), and only while the "due soon"
  cutoff is the same: it moves at local midnight, and when the working
  calendar is reloaded (at once in this process, within the calendar's own
  re-check interval in others, like every other deadline computation).
* People.  The token is checked on every request (revocation and expiry take
  effect at once, as elsewhere) and queries.queue_department decides the
  department before any kept answer is looked at.  Answers are keyed by
  department only: there is nothing per user in them.

Statements: a request reads the stamp in one statement and, when its kept
answer is not current, reads the queue in a second; neither depends on the
size of the queue.  (Plus the working calendar's own re-check every few
seconds.)  On PostgreSQL the requests one event loop has in hand are read
together, in ONE statement, on the loop itself: the read never waits on a lock,
and a sub-millisecond read that blocks the loop once for many requests costs
far less than a thread hop or a round trip each.  It uses autocommit
connections of its own, so it can never wait for a connection a thread-pool
request holds, and it goes to psycopg directly: under load a batch holds 4 to
7 requests, and SQLAlchemy's checkout, execution context and return, with a
Session for the calendar, were measured at a fifth of each request's CPU.
SQLite requests are read one by one in the thread pool.

Memory: least recently used answers are dropped beyond MAX_BYTES per process.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar
from weakref import WeakKeyDictionary

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from shared.assignments import queries
from shared.assignments.schemas import QueueOut
from shared.calendar.rules import WorkingCalendar
from shared.calendar.service import recently_checked_calendar, working_calendar
from shared.clock import Clock
from shared.db import make_engine
from shared.errors import Unauthorized
from shared.settings import get_settings
from shared.users import service as users
from shared.users.models import Role

MAX_BYTES = 32 * 1024 * 1024
READER_POOL = {"pool_size": 1, "max_overflow": 8, "pool_timeout": 5}
KEEP_STAMP_CONNECTIONS = 4  # one per event loop is all a process uses
STAMP_CONNECTION_NAME = "gongzhi-queue-stamps"  # application_name, as pg_stat_activity shows it
STAMP_TIMEOUT_S = 5

# Told of every stamp read (statement, parameters, seconds): the reader's psycopg
# connections have no SQLAlchemy events, and tests and benchmarks count statements.
StatementListener = Callable[[str, dict[str, Any], float], None]

T = TypeVar("T")


RawHeaders = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """What the endpoint sends for one kept queue, in both encodings, headers included."""

    department_id: int
    body: bytes  # the JSON
    etag: str
    headers: RawHeaders
    gzip_body: bytes  # the same, gzip-encoded once here rather than on every request
    gzip_etag: str  # a different representation has a different strong validator (RFC 9110 8.8.3)
    gzip_headers: RawHeaders

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzip_body)

    @classmethod
    def of(cls, department_id: int, body: bytes) -> Answer:
        tag = hashlib.blake2b(body, digest_size=12).hexdigest()
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        plain_tag, gzip_tag = f'"{tag}"', f'"{tag}-gz"'
        return cls(department_id, body, plain_tag, _headers(body, plain_tag), packed, gzip_tag,
                   _headers(packed, gzip_tag) + ((b"content-encoding", b"gzip"),))


def _headers(body: bytes, tag: str) -> RawHeaders:
    return ((b"content-length", str(len(body)).encode()), (b"content-type", b"application/json"),
            (b"etag", tag.encode()), (b"vary", b"Accept-Encoding"))


@dataclass(frozen=True, slots=True)
class _Entry:
    answer: Answer
    generation: int  # the department's queue stamp the answer was computed at
    soon: datetime  # the "due soon" cutoff it was computed with (the calendar's only part in it)
    computed_at: datetime
    holds_through: datetime | None

    def current(self, department_id: int, generation: int, soon: datetime, now: datetime) -> bool:
        return (department_id == self.answer.department_id and generation == self.generation
                and soon == self.soon and self.computed_at <= now
                and (self.holds_through is None or now <= self.holds_through))


class _Member(NamedTuple):
    role: Role
    department_id: int


class QueueCache:
    """Answers by (department, limit), least recently used dropped beyond max_bytes."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, int], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, department_id: int, limit: int) -> _Entry | None:
        key = (department_id, limit)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, department_id: int, limit: int, entry: _Entry) -> None:
        key = (department_id, limit)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old.answer.size
            self._entries[key] = entry
            self._bytes += entry.answer.size
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= dropped.answer.size


Fill = Callable[[int, datetime, datetime], queries.QueueRead]


class QueueReader:
    """How requests read the queue of one database; one per application engine and process."""

    def __init__(self, engine: Engine) -> None:
        self.cache = QueueCache()
        self.inline = engine.dialect.name == "postgresql"
        self.engine: Engine | None = None  # new copies and the calendar's re-check
        self.stamps: _Connections | None = None  # the batched stamp reads
        self._stamps_sql = ""
        self._calendar_url = ""
        self.statement_listeners: list[StatementListener] = []
        if self.inline:
            url = engine.url.render_as_string(hide_password=False)
            self.engine = make_engine(url, pool_pre_ping=False, isolation_level="AUTOCOMMIT", **READER_POOL)
            self.stamps = _Connections(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
            self._stamps_sql = str(queries.STAMPS_FOR_TOKENS.compile(dialect=self.engine.dialect))
            self._calendar_url = str(self.engine.url)
        self._batches: WeakKeyDictionary[asyncio.AbstractEventLoop, _Batch] = WeakKeyDictionary()
        self._cutoff: tuple[WorkingCalendar, date, datetime] | None = None

    def close(self) -> None:
        if self.stamps is not None:
            self.stamps.close()
        if self.engine is not None:
            self.engine.dispose()

    # -- PostgreSQL: on the event loop, the stamps of concurrent requests in one statement

    async def answer(self, clock: Clock, token: str, department_id: int | None, limit: int) -> Answer:
        loop = asyncio.get_running_loop()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = _Batch(self)
        row, calendar = await batch.read(loop, users.token_hash(token), department_id)

        def fill(dept: int, now: datetime, soon: datetime) -> queries.QueueRead:
            return self._on_connection(lambda conn: queries.read_queue(conn, dept, now, soon, limit))

        return self._answer(row, calendar, clock.now(), department_id, limit, fill)

    def read_stamps(self, asked: list[tuple[str, int | None]]) -> tuple[dict[tuple[str, int | None], Any],
                                                                        WorkingCalendar]:
        assert self.stamps is not None
        params = {"token_hashes": [h for h, _d in asked], "department_ids": [d for _h, d in asked]}

        def read(conn: psycopg.Connection[Any]) -> list[Any]:
            started = time.perf_counter()
            rows = conn.execute(self._stamps_sql, params).fetchall()
            for listener in self.statement_listeners:
                listener(self._stamps_sql, params, time.perf_counter() - started)
            return rows

        found = {(row.asked_token_hash, row.asked_department_id): row for row in self.stamps.run(read)}
        calendar = recently_checked_calendar(self._calendar_url, get_settings())
        if calendar is None:
            calendar = self._on_connection(_calendar)
        return found, calendar

    def _on_connection(self, work: Callable[[Connection], T]) -> T:
        assert self.engine is not None
        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    return work(conn)
            except DBAPIError as exc:
                # No ping per checkout: a connection the server dropped fails once; a new one is tried.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    # -- any database: one request, in the caller's thread

    def answer_now(self, engine: Engine, clock: Clock, token: str, department_id: int | None,
                   limit: int) -> Answer:
        with engine.connect() as conn:
            row = conn.execute(queries.STAMP_FOR_TOKEN,
                               {"token_hash": users.token_hash(token), "department_id": department_id}).first()
            calendar = _calendar(conn)

            def fill(dept: int, now: datetime, soon: datetime) -> queries.QueueRead:
                return queries.read_queue(conn, dept, now, soon, limit)

            return self._answer(row, calendar, clock.now(), department_id, limit, fill)

    # -- both

    def _answer(self, row: Any, calendar: WorkingCalendar, now: datetime,
                requested: int | None, limit: int, fill: Fill) -> Answer:
        # row: STAMP_FOR_TOKEN's columns (a SQLAlchemy Row, or a psycopg named tuple), or None.
        if row is None or not users.token_admits(row.expires_at, row.revoked, row.active, now):
            raise Unauthorized()
        dept = queries.queue_department(_Member(Role(row.role), row.department_id), requested)  # 403 here
        if dept != row.queue_department_id:  # the statement's copy of the rule disagrees: serve nothing
            raise RuntimeError("queue department differs between STAMP_FOR_TOKEN and queue_department")
        soon = self._soon(calendar, now)
        entry = self.cache.get(dept, limit)
        if entry is not None and entry.current(dept, row.queue_generation, soon, now):
            return entry.answer
        read = fill(dept, now, soon)
        body = QueueOut.model_construct(department_id=dept, counts=read.counts,
                                        items=read.items).model_dump_json().encode()
        answer = Answer.of(dept, body)
        self.cache.put(dept, limit, _Entry(answer, read.generation, soon, now, read.holds_through))
        return answer

    def _soon(self, calendar: WorkingCalendar, now: datetime) -> datetime:
        """queries.cutoff_on, computed once per calendar and local day."""
        today = calendar.local_date(now)
        known = self._cutoff
        if known is not None and known[0] is calendar and known[1] == today:
            return known[2]
        soon = queries.cutoff_on(calendar, now)
        self._cutoff = (calendar, today, soon)
        return soon


class _Connections:
    """Autocommit psycopg connections, taken from a list under a lock and given back.

    No ping per checkout: a kept connection the server dropped fails once and
    a new one is tried.  A connection that failed is closed, not given back.
    """

    def __init__(self, conninfo: str, keep: int = KEEP_STAMP_CONNECTIONS) -> None:
        self._conninfo = conninfo
        self._keep = keep
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    def run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        for attempt in (1, 2):
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            kept = conn is not None
            if conn is None:
                conn = self._connect()
            try:
                result = work(conn)
            except psycopg.OperationalError:
                conn.close()
                if kept and attempt == 1:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            with self._lock:
                give_back = not self._closed and len(self._idle) < self._keep
                if give_back:
                    self._idle.append(conn)
            if not give_back:
                conn.close()
            return result
        raise AssertionError("unreachable")

    def _connect(self) -> psycopg.Connection[Any]:
        # The read blocks its event loop: an unreachable or stuck server must not
        # freeze the process for longer than STAMP_TIMEOUT_S.
        conn = psycopg.connect(self._conninfo, autocommit=True, row_factory=namedtuple_row,
                               application_name=STAMP_CONNECTION_NAME, connect_timeout=STAMP_TIMEOUT_S)
        try:
            conn.execute(f"SET statement_timeout = {STAMP_TIMEOUT_S * 1000}")
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        with self._lock:
            idle, self._idle, self._closed = self._idle, [], True
        for conn in idle:
            conn.close()


def _calendar(conn: Connection) -> WorkingCalendar:
    with Session(bind=conn) as session:  # the calendar's occasional re-check reads through it
        return working_calendar(session)


class _Batch:
    """The stamp reads of the requests one event loop has in hand, done together.

    A request adds its (token hash, department asked for) and waits; the first
    one schedules the read right after what the loop is doing now, so every
    request that arrived meanwhile joins it.  Each waiter then gets its own
    row, or None.
    """

    def __init__(self, reader: QueueReader) -> None:
        self._reader = reader
        self._waiting: dict[tuple[str, int | None], list[asyncio.Future[Any]]] = {}

    def read(self, loop: asyncio.AbstractEventLoop, token_hash: str, department_id: int | None) -> asyncio.Future[Any]:
        """`loop` is the running loop, the one this batch belongs to."""
        future = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._run)
        self._waiting.setdefault((token_hash, department_id), []).append(future)
        return future

    def _run(self) -> None:
        waiting, self._waiting = self._waiting, {}
        try:
            rows, calendar = self._reader.read_stamps(list(waiting))
        except Exception as exc:  # noqa: BLE001 - every waiter gets the failure
            for futures in waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, futures in waiting.items():
            for future in futures:
                if not future.done():  # a request whose client went away was cancelled
                    future.set_result((rows.get(key), calendar))


_readers: WeakKeyDictionary[Engine, QueueReader] = WeakKeyDictionary()
_readers_lock = threading.Lock()


def reader_for(engine: Engine) -> QueueReader:
    """The queue reader of the application whose engine this is."""
    reader = _readers.get(engine)
    if reader is None:
        with _readers_lock:
            reader = _readers.get(engine)
            if reader is None:
                reader = _readers[engine] = QueueReader(engine)
                event.listen(engine, "engine_disposed", lambda _engine: reader.close())  # type: ignore[union-attr]
    return reader
