"""`gongzhi outbox list|retry|discard` — the admin's view of outgoing mail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from shared.actors import SYSTEM
from shared.clock import SystemClock
from shared.db import session_scope
from shared.errors import DomainError
from shared.outbox import admin
from shared.outbox.models import OutboxMessage, OutboxState
from shared.outbox.service import take_enqueued
from shared.settings import get_settings

STATE_HELP = "pending | sending | sent | failed | unknown | discarded"


def _local(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(get_settings().tz).strftime("%m-%d %H:%M:%S")


def _line(m: OutboxMessage) -> str:
    error = f"  ! {m.last_error[:80]}" if m.last_error else ""
    return (f"{m.id:>8}  {OutboxState(m.state).value:<9} {m.attempts:>2}  {_local(m.created_at)}  "
            f"{m.to_address:<28} {m.subject[:40]}{error}")


def _act(ids: list[int], state: OutboxState | None, action: str, *, kick: bool = True) -> tuple[int, int]:
    """Apply the action to each message, as the system admin; (done, refused).

    One transaction, a savepoint per message: a refused one is reported and the
    rest go ahead, and the relay is woken once, after the commit.
    """
    done = failed = 0
    clock = SystemClock()
    with session_scope() as session:
        targets = list(ids) + (admin.ids_in_state(session, SYSTEM, state) if state else [])
        for message_id in targets:
            try:
                with session.begin_nested():
                    if action == admin.RETRY:
                        admin.retry(session, clock, SYSTEM, message_id)
                    else:
                        admin.discard(session, clock, SYSTEM, message_id)
                done += 1
            except DomainError as exc:
                failed += 1
                typer.echo(f"{message_id}: {exc.key} {exc.params}", err=True)
        if not kick:
            take_enqueued(session)
    return done, failed


def register(app: typer.Typer) -> None:
    outbox = typer.Typer(help="发件箱 / outgoing mail", no_args_is_help=True)

    @outbox.command("list")
    def list_(
        state: Annotated[str | None, typer.Option(help=STATE_HELP)] = None,
        limit: int = 50,
    ) -> None:
        """Messages newest first, with the count in every state."""
        wanted = OutboxState(state) if state else None
        with session_scope() as session:
            counts = admin.counts(session, SYSTEM)
            rows = admin.list_messages(session, SYSTEM, state=wanted, limit=limit)
            typer.echo("  ".join(f"{k} {v}" for k, v in counts.items()))
            for m in rows:
                typer.echo(_line(m))

    @outbox.command("retry")
    def retry(
        ids: Annotated[list[int] | None, typer.Argument(help="message ids")] = None,
        state: Annotated[str | None, typer.Option(help="resend all in this state: unknown | failed")] = None,
        kick: Annotated[bool, typer.Option(help="ask a worker to deliver now")] = True,
    ) -> None:
        """Resend messages whose delivery is unknown or that failed (same Message-ID)."""
        done, refused = _act(ids or [], OutboxState(state) if state else None, admin.RETRY, kick=kick)
        typer.echo(f"{done} message(s) back to pending")
        if refused:
            raise typer.Exit(1)

    @outbox.command("discard")
    def discard(
        ids: Annotated[list[int] | None, typer.Argument(help="message ids")] = None,
        state: Annotated[str | None, typer.Option(help="discard every message in this state")] = None,
    ) -> None:
        """Give up on pending, unknown or failed messages."""
        done, refused = _act(ids or [], OutboxState(state) if state else None, admin.DISCARD)
        typer.echo(f"{done} message(s) discarded")
        if refused:
            raise typer.Exit(1)

    app.add_typer(outbox, name="outbox")
