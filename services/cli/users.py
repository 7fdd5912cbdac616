from __future__ import annotations

import typer
from sqlalchemy import select
from sqlmodel import col

from shared.actors import SYSTEM
from shared.clock import SystemClock
from shared.db import session_scope
from shared.departments.models import Department
from shared.errors import DomainError
from shared.i18n import translate
from shared.users.models import Role
from shared.users.service import create_user


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="用户 / users", no_args_is_help=True)

    @users.command("add")
    def add(
        username: str,
        name: str = typer.Option(..., help="姓名"),
        email: str = typer.Option(...),
        department: str = typer.Option(..., help="部门编码，如 SCJG"),
        role: Role = typer.Option(Role.LIAISON),
        language: str = typer.Option("zh-CN"),
        password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    ) -> None:
        """Add a user to a department."""
        try:
            with session_scope() as session:
                dept_id = session.scalar(select(col(Department.id)).where(col(Department.code) == department))
                if dept_id is None:
                    raise typer.BadParameter(f"unknown department code {department}", param_hint="--department")
                user = create_user(session, SystemClock(), SYSTEM, username=username, name=name, email=email,
                                   department_id=dept_id, role=role, password=password, language=language)
                typer.echo(f"user {user.username} ({user.role.value}) added to {department}")
        except DomainError as exc:
            field = getattr(exc, "field", "")
            typer.echo(f"{field}: {translate(exc.key, 'zh-CN', **exc.params)}", err=True)
            raise typer.Exit(2) from None

    app.add_typer(users, name="user")
