from __future__ import annotations

import typer

from shared.clock import SystemClock
from shared.db import session_scope


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo() -> None:
        """Load demo data (departments, users of every role, ~40 cases); idempotent, demo mode only."""
        from shared.demo import DEMO_LOGINS, load_demo

        with session_scope() as session:
            summary = load_demo(session, SystemClock())
        if summary.created:
            typer.echo(f"demo loaded: {summary.departments} departments, {summary.users} users, "
                       f"{summary.cases} cases, {summary.assignments} assignments, "
                       f"{summary.summaries} weekly summaries")
        else:
            typer.echo("demo data already present")
        for username, password, role, dept in DEMO_LOGINS:
            typer.echo(f"  {username:<14} {password}  {role:<12} {dept}")
