"""Who performs a use case: a signed-in user, or the system itself.

Every use case takes its actor and decides itself whether that actor may act;
routes, pages, the CLI and workers only pass it on.  The command line runs on
the server with the database credentials in hand, so it acts as ``SYSTEM``: an
administrator that is nobody in particular.  It passes admin checks and is
recorded in the audit trail without a user (the timeline shows 系统 / system).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import Forbidden
from shared.users.models import Role, User


@dataclass(frozen=True)
class SystemActor:
    """The CLI and scheduled jobs: admin rights, no user row."""

    id: None = None
    role: Role = Role.ADMIN
    department_id: None = None


SYSTEM = SystemActor()

Actor = User | SystemActor


def require_admin(actor: Actor) -> None:
    """系统管理员 only: anyone else is refused with 403."""
    if actor.role != Role.ADMIN:
        raise Forbidden()


def audit_user(actor: Actor) -> User | None:
    """The user an audit event names; None for the system."""
    return actor if isinstance(actor, User) else None
