"""Runs Alembic from code (CLI, tests, compose's one-shot migration service)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s")
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def on_dialect(dialect: str) -> Callable[..., bool]:
    """Alembic's include_object: leave out what the models create on another database only.

    An index declared with ``.ddl_if(dialect="postgresql")`` (the trigram indexes)
    is neither expected on SQLite nor written by autogenerate from SQLite; the
    initial migration creates it on PostgreSQL from the model's own DDL.
    """
    def include(obj: Any, _name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return not (type_ == "index" and only is not None and only != dialect)

    return include


def dialect_only_ddl(dialect: str) -> list[str]:
    """CREATE INDEX statements of the indexes the models create on DIALECT only, as that dialect writes them."""
    import importlib

    from sqlalchemy.schema import CreateIndex

    import shared.models

    compiler = importlib.import_module(f"sqlalchemy.dialects.{dialect}").dialect()
    out = []
    for table in shared.models.metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if getattr(getattr(index, "_ddl_if", None), "dialect", None) == dialect:
                out.append(str(CreateIndex(index).compile(dialect=compiler)))
    return out
