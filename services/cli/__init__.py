"""`gongzhi` — admin commands.  Every module here with `register(app)` adds its commands.

Who acts: whoever runs `gongzhi` on the server holds the database credentials
already, so every command acts as ``shared.actors.SYSTEM`` — an administrator
recorded as "system" in the audit trail — and the use cases check it like any
other actor.

After commit: the CLI is an entry point, so it installs the outbox relay kick;
a command whose transaction queued mail (a resend, `remind --no-deliver`) asks
a worker to deliver it and says whether the broker answered.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(help="共治 Gongzhi — 管理命令 / admin commands", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)


_register_all()


def _kick_and_say() -> bool:
    from workers.app import kick_relay

    kicked = kick_relay()
    typer.echo("relay kicked" if kicked else "broker unreachable: beat will deliver")
    return kicked


@app.callback()
def _entry_point() -> None:
    """共治 Gongzhi — 管理命令 / admin commands"""
    from shared.outbox.service import install_relay_kick

    install_relay_kick(_kick_and_say)


def main() -> None:
    app()
