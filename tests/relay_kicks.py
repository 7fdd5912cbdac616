"""Count the after-commit relay kicks instead of talking to a broker (delivery has its own tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.db import after_commit_hook, install_after_commit, remove_after_commit
from shared.outbox.service import RELAY_KICK, install_relay_kick


@contextmanager
def counting_kicks() -> Iterator[list[int]]:
    """Replace the installed kick (the app factory's, say) with a counter; put it back afterwards."""
    previous = after_commit_hook(RELAY_KICK)
    calls: list[int] = []

    def kick() -> bool:
        calls.append(1)
        return True

    install_relay_kick(kick)
    try:
        yield calls
    finally:
        if previous is not None:
            install_after_commit(RELAY_KICK, previous)
        else:
            remove_after_commit(RELAY_KICK)
