"""Outbox delivery tasks: `outbox.relay` (beat every 15 s, and kicked after commit), `outbox.reap`."""

from __future__ import annotations

import logging

from celery import Celery

from shared.outbox import relay
from shared.outbox.service import install_relay_kick
from workers.app import app
from workers.schedule import OUTBOX_REAP, OUTBOX_RELAY

log = logging.getLogger("gongzhi.outbox")


@app.task(name=OUTBOX_RELAY, time_limit=900)
def relay_outbox() -> dict[str, int | str | None]:
    """Deliver due outbox messages (bounded by the relay's run budget)."""
    return relay.run().as_dict()


@app.task(name=OUTBOX_REAP, time_limit=300)
def reap_outbox() -> int:
    """Sends whose worker died become "unknown" for an admin to resend or discard."""
    return relay.reap()


def kick_relay(celery: Celery | None = None) -> bool:
    """Queue a relay run now; False (logged) when the broker cannot be reached.

    Call it after the transaction that wrote outbox rows has committed.  It never
    raises, so a request does not fail because Redis is down — beat relays
    within 15 seconds anyway.  `celery` is another client app (tests).
    """
    try:
        (celery or app).send_task(
            OUTBOX_RELAY,
            expires=60,
            retry=True,  # one quick reconnect covers a pooled connection made stale by a broker restart
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception as exc:  # noqa: BLE001 - any broker trouble: log it, beat will relay
        log.warning("outbox: could not kick the relay (%s: %s); beat will deliver",
                    exc.__class__.__name__, exc)
        return False
    return True


def install_after_commit_kick() -> None:
    """Entry points call this: every commit that queued mail then asks a worker to deliver it."""
    install_relay_kick(kick_relay)
