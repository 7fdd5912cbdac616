"""What other domains do when an assignment changes, without assignments importing them.

Inspections depend on assignments, never the other way round: the inspections
package registers its reaction here when it is imported, and `approve` runs
whatever is registered, in its own transaction.  Every process that writes an
assignment has imported that package: shared/models.py imports it, and an
assignment row cannot even be flushed without the `inspection` table its
foreign key names.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from shared.assignments.models import Assignment
from shared.clock import Clock
from shared.users.models import User

ApprovedHook = Callable[[Session, Clock, User | None, Assignment], None]

_approved: list[ApprovedHook] = []


def on_approved(hook: ApprovedHook) -> ApprovedHook:
    """Register `hook(session, clock, actor, assignment)`, run after an approval is flushed."""
    if hook not in _approved:
        _approved.append(hook)
    return hook


def approved(session: Session, clock: Clock, actor: User | None, a: Assignment) -> None:
    for hook in _approved:
        hook(session, clock, actor, a)
