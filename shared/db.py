"""One engine and session factory per database URL, shared by API, CLI and workers.

SQLite is the embedded default and is shared by the API, a worker and beat, so
every connection runs in WAL mode with a busy timeout, and every transaction
starts with BEGIN IMMEDIATE: writers queue on the busy timeout instead of
failing with "database is locked" when a read lock is upgraded.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from psycopg.pq import ConnStatus, TransactionStatus
from sqlalchemy import CursorResult, DateTime, Executable, event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from shared.settings import get_settings

_engines: dict[str, Engine] = {}
log = logging.getLogger("gongzhi.db")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware UTC datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _quiet(dbapi_connection: Any) -> bool:
    """Whether a pooled psycopg connection is idle with nothing from the server waiting (no round trip).

    An idle connection has nothing to read.  When the server ends it (a restart, an
    administrator's pg_terminate_backend, idle_session_timeout, a proxy closing it),
    its farewell and the socket's end arrive, and the socket becomes readable."""
    pgconn = dbapi_connection.pgconn
    if dbapi_connection.closed or pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


def _check_on_checkout(engine: Engine) -> None:
    # In place of pool_pre_ping, whose SELECT 1 was a round trip on every request (7 % of a searched page's
    # CPU, and a statement for the server): only a connection with something waiting from the server is
    # pinged — a farewell, or a notification it listens for — and one that fails is dropped and the pool
    # opens another (SQLAlchemy's pessimistic disconnect handling, the checkout event's documented use).
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _quiet(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - whatever the ping met, this connection is not to be used
            raise DisconnectionError("the server ended this pooled connection") from exc
        if not alive:
            raise DisconnectionError("the server ended this pooled connection")


def make_engine(url: str, *, statement_timeout_ms: int | None = None, **kwargs: Any) -> Engine:
    """STATEMENT_TIMEOUT_MS (PostgreSQL): the server cancels any statement running longer.

    The API sets it (Settings.statement_timeout_ms): a page whose browser went away
    stops costing the database within that time, instead of running to the end.
    Such an engine serves requests, and its statements never start parallel workers:
    starting them took 5 ms of a 7 ms list search, and under load the workers only
    take cores from other requests (reports and jobs, on engines without the timeout,
    keep them).  Its planner also prices a page read from anywhere as 1.1 sequential
    reads, not 4: the database is on SSD or in memory (3 GB at 1M cases), and at 4 a
    small department's title search built a bitmap of 60,000 trigram hits (10 ms)
    rather than walk its 3,000 cases newest first (2 ms).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    psycopg = make_url(url).get_driver_name() == "psycopg"
    if not psycopg:
        kwargs.setdefault("pool_pre_ping", True)
    # As many connections as requests a process serves at once (anyio's 40 threads):
    # a smaller pool opens and closes connections under load.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    if statement_timeout_ms:
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args["options"] = (f"{connect_args.get('options', '')} -c statement_timeout={int(statement_timeout_ms)}"
                                   " -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1")
        kwargs["connect_args"] = connect_args
    engine = create_engine(url, **kwargs)
    if psycopg and not kwargs.get("pool_pre_ping"):
        _check_on_checkout(engine)
    return engine


def get_engine(url: str | None = None, *, statement_timeout_ms: int | None = None) -> Engine:
    url = url or get_settings().database_url
    key = url if not statement_timeout_ms else f"{url}#statement_timeout={statement_timeout_ms}"
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = make_engine(url, statement_timeout_ms=statement_timeout_ms)
    return engine


def dispose_engines() -> None:
    """After a fork the child must not reuse the parent's pooled connections."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def new_session(engine: Engine | None = None) -> Session:
    return Session(engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """The boundary for CLI commands and worker tasks: commit on success, roll back on error."""
    session = new_session(engine)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# ------------------------------------------------------------------ after commit

AfterCommit = Callable[[OrmSession], None]
_after_commit: dict[str, AfterCommit] = {}
_session_marks: set[str] = set()


def read_columns(session: Session, stmt: Executable, params: Mapping[str, Any]) -> CursorResult[Any]:
    """A statement that selects columns (no entity to load), on the session's connection, past the ORM layer.

    The session's own execute would only wrap it (its compile state and result machinery): a fifth of a
    list statement's CPU (0.60-0.69 against 0.45-0.52 ms for a case search, six turns).  The session is
    flushed first, as its autoflush would have been, so the read sees what the session holds unwritten."""
    session.flush()
    return session.connection().execute(stmt, params)


def install_after_commit(name: str, hook: AfterCommit, *, clears: str | None = None) -> None:
    """Run HOOK(session) after every committed transaction of every session in this process.

    The entry points (API app factory, CLI, Celery worker) install hooks; domain
    code only leaves a mark in ``session.info`` (e.g. ``outbox.mark_enqueued``), so
    no caller has to remember a line after its commit.  Installing under a name
    that exists replaces that hook.  ``clears`` names the ``session.info`` key the
    hook reads: it is dropped when a transaction ends without committing, so a
    rolled-back change never triggers the hook at a later commit.

    The hook runs after the database committed (its rows are visible to others)
    and never raises into the caller, whose change is already durable.  A savepoint
    release is not a commit: the hook waits for the outermost one.
    """
    _after_commit[name] = hook
    if clears:
        _session_marks.add(clears)
    if not event.contains(OrmSession, "after_commit", _run_after_commit):
        event.listen(OrmSession, "after_commit", _run_after_commit)
        event.listen(OrmSession, "after_transaction_end", _forget_marks)


def remove_after_commit(name: str) -> AfterCommit | None:
    return _after_commit.pop(name, None)


def after_commit_hook(name: str) -> AfterCommit | None:
    return _after_commit.get(name)


def _run_after_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return
    for name, hook in list(_after_commit.items()):
        try:
            hook(session)
        except Exception:  # noqa: BLE001 - the commit happened; a hook must not turn it into an error
            log.exception("after-commit hook %s failed", name)


def _forget_marks(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed (hooks ran) or not
        for key in _session_marks:
            session.info.pop(key, None)
