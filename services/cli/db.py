from __future__ import annotations

import typer

from shared import migrate
from shared.settings import get_settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="数据库 / database", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade(revision: str = "head") -> None:
        """Apply migrations up to REVISION (default: head)."""
        url = get_settings().database_url
        migrate.upgrade(url, revision)
        typer.echo(f"database at {revision}")

    app.add_typer(db, name="db")
