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
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
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
