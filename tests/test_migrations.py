"""The schema the migrations build is the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import shared.models
from shared import migrate
from shared.db import make_engine
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with fresh_postgres_database("gongzhi_migrate", create_schema=False) as url:
        yield url


def test_migrations_build_exactly_the_models(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": migrate.on_dialect(conn.dialect.name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts),
                                shared.models.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_run_twice_are_a_no_op(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.upgrade(empty_database)


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_audit_trail_is_append_only_on_postgresql(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO event (at, object_type, object_id, action) VALUES (:at, 'case', 1, 'x')"),
                     {"at": datetime.now(UTC)})
    for statement in ("UPDATE event SET action = 'rewritten'", "DELETE FROM event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM event")).scalar_one() == "x"
    engine.dispose()


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_outbox_bodies_are_lz4_compressed_where_the_server_has_it(empty_database: str) -> None:
    """The migration and create_all (tests, the benchmark's dataset) agree on it too."""
    migrate.upgrade(empty_database)
    engine = make_engine(empty_database)
    query = text("""SELECT attname, attcompression FROM pg_attribute
                    WHERE attrelid = 'outbox_message'::regclass AND attname IN ('body_text', 'body_html')""")
    with engine.connect() as conn:
        has_lz4 = conn.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                    "WHERE name = 'default_toast_compression'")).scalar_one()
        migrated = {row[0]: row[1] for row in conn.execute(query)}
        conn.execute(text("DROP TABLE outbox_message CASCADE"))  # and its attachments' foreign key
        conn.commit()
        shared.models.metadata.tables["outbox_message"].create(conn)
        created = {row[0]: row[1] for row in conn.execute(query)}
    engine.dispose()
    expected = "l" if has_lz4 else ""
    assert migrated == created == {"body_text": expected, "body_html": expected}
    assert has_lz4, "this server's PostgreSQL is built with lz4 (Debian's and the official images are)"
