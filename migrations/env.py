"""Alembic environment: the URL comes from the config (set by shared.migrate) or settings."""

from __future__ import annotations

from alembic import context

import shared.models  # noqa: F401  (registers every table)
from shared.db import make_engine
from shared.settings import get_settings

config = context.config
target_metadata = shared.models.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
