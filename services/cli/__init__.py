"""`gongzhi` — admin commands.  Every module here with `register(app)` adds its commands."""

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


def main() -> None:
    app()
