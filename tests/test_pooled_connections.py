"""A pooled PostgreSQL connection the server ended is replaced before a request uses it, with no ping.

The server ends connections when it restarts, when an administrator terminates
them, or on idle_session_timeout; the next request must not be the one that
finds out.  What a restart does to a client is reproduced with
pg_terminate_backend() on this engine's own connections.
"""

from __future__ import annotations

import select
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from shared.db import make_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
def pooled(postgres_database: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database, pool_size=2, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _outside(sql: str, url: str = POSTGRES_ADMIN_URL, **values: object) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql), values)
    finally:
        admin.dispose()


def _no_ping(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def ping(_dbapi_connection: object) -> bool:
        raise AssertionError("a checkout made a round trip to the server")

    monkeypatch.setattr(engine.dialect, "do_ping", ping)


def test_a_connection_the_server_ended_is_replaced_before_it_is_used(pooled):
    before = _backend(pooled)
    _outside("SELECT pg_terminate_backend(:pid, 5000)", pid=before)

    after = _backend(pooled)  # without the check: "terminating connection due to administrator command"

    assert after != before


def test_an_idle_connection_is_reused_without_a_round_trip(pooled, monkeypatch):
    pid = _backend(pooled)
    _no_ping(pooled, monkeypatch)

    assert _backend(pooled) == pid


def test_a_connection_with_a_notification_waiting_is_kept(pooled, postgres_database):
    with pooled.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.exec_driver_sql("LISTEN pooled_test")
        conn.commit()
        socket = conn.connection.dbapi_connection.pgconn.socket  # type: ignore[union-attr]
    # Input waits on the idle connection's socket: it must not be taken for the server's farewell.
    _outside("NOTIFY pooled_test, 'hello'", postgres_database)  # a notification stays in its database
    waiting = select.poll()
    waiting.register(socket, select.POLLIN)
    assert waiting.poll(5000), "the notification reached the pooled connection"

    with pooled.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        conn.exec_driver_sql("UNLISTEN *")
        conn.commit()
