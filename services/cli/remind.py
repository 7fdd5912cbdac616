"""`gongzhi remind [--now ISO-8601]` — one reminder pass, then delivery, synchronously."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from shared.clock import Clock, FrozenClock, SystemClock
from shared.db import session_scope
from shared.outbox import relay
from shared.outbox.service import take_enqueued
from shared.reminders import service as reminders
from shared.settings import get_settings


def parse_now(value: str) -> datetime:
    """ISO-8601; without an offset it is local office time (Asia/Shanghai by default)."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 time: {value!r}") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=get_settings().tz)


def register(app: typer.Typer) -> None:
    @app.command("remind")
    def remind(
        now: Annotated[str | None, typer.Option(
            "--now", help="Pretend it is this time (ISO-8601; local time if no offset) / 指定时间")] = None,
        deliver: Annotated[bool, typer.Option(help="Deliver the outbox afterwards / 随后投递")] = True,
    ) -> None:
        """One reminder pass (催办扫描) plus delivery; prints what was queued and sent."""
        settings = get_settings()
        clock: Clock = FrozenClock(parse_now(now)) if now else SystemClock()
        with session_scope() as session:
            result = reminders.run_pass(session, clock, settings)
            if deliver:
                take_enqueued(session)  # this command delivers right after: no worker needs waking
        at = clock.now().astimezone(settings.tz)
        typer.echo(f"reminder pass at {at:%Y-%m-%d %H:%M} {settings.timezone}")
        if not result.ran:
            typer.echo(f"  nothing sent: {result.skipped} (the next working day's first pass picks it up)")
        else:
            found = ", ".join(f"{k} {v}" for k, v in sorted(result.notices.items())) or "none"
            typer.echo(f"  due items found: {result.found}; new notices: {found}")
        typer.echo(f"  queued: {result.emails} email(s) to {result.recipients} recipient(s) "
                   f"({result.digests} digest, {result.singles} single)")
        for to_address, subject in result.queued:
            typer.echo(f"    -> {to_address}  {subject}")
        if not deliver:
            return
        report = relay.run(clock=clock)
        smtp_error = f"; SMTP: {report.smtp_error}" if report.smtp_error else ""
        typer.echo(f"delivery: sent {report.sent}, retrying {report.retried}, failed {report.failed}, "
                   f"unknown {report.unknown}{smtp_error}")
