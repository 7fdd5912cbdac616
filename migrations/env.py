"""Alembic environment: the URL comes from the config (set by shared.migrate) or settings."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel.sql.sqltypes import AutoString

import shared.models  # noqa: F401  (registers every table)
from shared.columns import StrEnumType
from shared.db import UTCDateTime, make_engine
from shared.migrate import on_dialect
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


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Our column types are rendered as what the database stores, so migrations stay frozen."""
    if type_ == "type" and isinstance(obj, StrEnumType):
        return f"sa.String(length={obj.impl_instance.length})"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        include_object=on_dialect(connection.dialect.name),  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
