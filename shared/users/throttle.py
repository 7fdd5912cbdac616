"""Sign-in throttling: slow an attacker down, never lock the real user out.

The state is the ``login_attempt`` table, so every API replica sees the same
attempts.  Two budgets are checked before a password is:

- **account and address.**  After ``login_free_failures`` failures in a row
  (since that address last signed in to that account, within the window), each
  next try from that address waits 1, 2, 4 … seconds after the last failure, at
  most the window.  Someone guessing ``admin``'s password is slowed to a few
  tries an hour; ``admin`` signing in from his own desk is not slowed at all,
  so nobody can lock anybody else out.
- **address.**  At most ``login_client_budget`` failures within the window,
  whatever the accounts: spraying one common password across many accounts
  runs out of it.

A refused try is not recorded and its password is not checked, so waiting is
enough to get in again and a refused guess teaches nothing.  Concurrent tries
from one attacker can each pass the check before any failure is written: that
lets a handful more guesses through, bounded by the attacker's parallelism and
the argon2 cost of each one.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from shared.clock import Clock
from shared.errors import TooManyRequests
from shared.i18n import N_
from shared.settings import Settings
from shared.users.models import LoginAttempt


class SignInThrottled(TooManyRequests):
    """429 with the seconds to wait (the ``Retry-After`` header) and a message that says them."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        if self.retry_after < 60:
            super().__init__(N_("signin_throttled_seconds"), seconds=self.retry_after)
        else:
            super().__init__(N_("signin_throttled_minutes"), minutes=math.ceil(self.retry_after / 60))


def delay_after(failures: int, free: int, cap_seconds: float) -> float:
    """Seconds to wait after the last of FAILURES failures in a row: 0, then 1, 2, 4 … up to the cap."""
    if failures < free:
        return 0.0
    return float(min(2 ** min(failures - free, 30), cap_seconds))


def check(session: Session, clock: Clock, settings: Settings, username: str, client: str) -> None:
    """Raise SignInThrottled when this address must wait before trying this account again."""
    now = clock.now()
    window = timedelta(minutes=settings.login_window_minutes)
    wait = max(_account_wait(session, now, window, settings, username, client),
               _address_wait(session, now, window, settings, client))
    if wait > 0:
        raise SignInThrottled(wait)


def record(session: Session, clock: Clock, username: str, client: str, success: bool) -> None:
    session.add(LoginAttempt(username=username[:64], client=client[:64], at=clock.now(), success=success))
    session.flush()


def _account_wait(session: Session, now: datetime, window: timedelta, settings: Settings,
                  username: str, client: str) -> float:
    pair = (col(LoginAttempt.username) == username[:64], col(LoginAttempt.client) == client[:64])
    since = now - window
    last_success = session.scalar(
        select(func.max(col(LoginAttempt.at))).where(*pair, col(LoginAttempt.success).is_(True),
                                                     col(LoginAttempt.at) >= since)
    )
    failed_since = col(LoginAttempt.at) > last_success if last_success is not None else col(LoginAttempt.at) >= since
    failures, last_failure = session.execute(
        select(func.count(), func.max(col(LoginAttempt.at)))
        .where(*pair, col(LoginAttempt.success).is_(False), failed_since)
    ).one()
    if not failures or last_failure is None:
        return 0.0
    delay = delay_after(failures, settings.login_free_failures, window.total_seconds())
    return (last_failure + timedelta(seconds=delay) - now).total_seconds()


def _address_wait(session: Session, now: datetime, window: timedelta, settings: Settings, client: str) -> float:
    budget = settings.login_client_budget
    recent = list(session.scalars(
        select(col(LoginAttempt.at))
        .where(col(LoginAttempt.client) == client[:64], col(LoginAttempt.success).is_(False),
               col(LoginAttempt.at) >= now - window)
        .order_by(col(LoginAttempt.at).desc())
        .limit(budget)
    ))
    if len(recent) < budget:
        return 0.0
    # The budget is free again once the oldest of these leaves the window.
    return (recent[-1] + window - now).total_seconds()
