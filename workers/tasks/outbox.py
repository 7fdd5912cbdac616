"""Outbox delivery tasks: `outbox.relay` (beat every 15 s, and workers.app.kick_relay), `outbox.reap`."""

from __future__ import annotations

from shared.outbox import relay
from workers.app import app
from workers.schedule import OUTBOX_REAP, OUTBOX_RELAY


@app.task(name=OUTBOX_RELAY, time_limit=900)
def relay_outbox() -> dict[str, int | str | None]:
    """Deliver due outbox messages (bounded by the relay's run budget)."""
    return relay.run().as_dict()


@app.task(name=OUTBOX_REAP, time_limit=300)
def reap_outbox() -> int:
    """Sends whose worker died become "unknown" for an admin to resend or discard."""
    return relay.reap()
