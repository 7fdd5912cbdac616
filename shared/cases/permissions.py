"""Who may open a case (开案): asked once, by the use case, the API and the pages alike."""

from __future__ import annotations

from shared.users.models import Role, User


def may_open_case(actor: User) -> bool:
    """Coordinators open cases; a department brings its matter to the coordinating office."""
    return actor.role == Role.COORDINATOR
