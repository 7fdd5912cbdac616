"""`gongzhi callback list --case ID` — a case's satisfaction callbacks (回访)."""

from __future__ import annotations

import typer

from shared.actors import SYSTEM
from shared.callbacks import service
from shared.callbacks.models import Callback
from shared.db import session_scope
from shared.errors import DomainError
from shared.i18n import translate
from shared.settings import get_settings


def _line(cb: Callback) -> str:
    made = cb.made_at.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M")
    answer = "-" if not cb.reached else f"{cb.satisfaction} resolved={'yes' if cb.resolved else 'no'}"
    reached = "reached" if cb.reached else "not_reached"
    rework = f"  reworked→#{cb.rework_assignment_id}" if cb.reworked_at else ""
    return (f"{cb.id:>6}  {made}  assignment #{cb.assignment_id:<6} {reached:<11} tries={cb.attempts:<2} "
            f"{answer}{rework}  {cb.note[:40]}")


def register(app: typer.Typer) -> None:
    callbacks = typer.Typer(help="回访 / satisfaction callbacks", no_args_is_help=True)

    @callbacks.command("list")
    def list_(case: int = typer.Option(..., "--case", help="案件 id")) -> None:
        """A case's callbacks, oldest first."""
        try:
            with session_scope() as session:
                rows = service.list_callbacks(session, SYSTEM, case)
                for cb in rows:
                    typer.echo(_line(cb))
                if not rows:
                    typer.echo(translate("callback_none", "zh-CN"))
        except DomainError as exc:
            typer.echo(translate(exc.key, "zh-CN", **exc.params), err=True)
            raise typer.Exit(2) from None

    app.add_typer(callbacks, name="callback")
