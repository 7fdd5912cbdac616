"""The outbox relay: claim, commit, send, settle — so nothing is lost and nothing is sent twice.

One relay *run* opens a single SMTP connection and works in rounds:

1. **claim** a round of due `pending` rows — one `UPDATE … RETURNING`; on
   PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED` so concurrent
   relays take disjoint rows, on SQLite `BEGIN IMMEDIATE` (shared/db.py) makes
   it atomic — and COMMIT them as `sending` (claimed_at, attempts + 1) *before*
   talking to SMTP;
2. **send** each message over the open connection (smtplib's public
   `mail`/`rcpt`/`data`), the next one rendered on a helper thread meanwhile;
3. **settle** the round: `sent`, back to `pending` with exponential backoff
   (refused connections, timeouts, 4xx), `failed` (5xx, or too many attempts),
   or `unknown` (the line broke inside DATA, so the body may have gone out).  Settling a round
   and claiming the next share one transaction: one commit per round.  When
   every message went out (the usual round) that transaction is a single
   statement, which on PostgreSQL commits in one round trip.

If the process dies between 1 and 3 its rows stay `sending`; the reaper moves
those older than `stale_seconds` to `unknown`, and only an admin puts them back
to `pending` (resend, same Message-ID) or `discarded`.  So a crash leaves at
most one round (`batch_size`, 50) per running relay in doubt; rounds much
smaller than that cost throughput (a database round trip per few messages),
and the target is ≥ 0.8× a plain SMTP loop (bench/delivery.py).

Every transaction runs again through a short database outage (a PostgreSQL
restart, a killed connection), so a message that was handed to SMTP is still
recorded as sent rather than left in doubt.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Integer, Row, Update, bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.clock import Clock, SystemClock
from shared.db import get_engine
from shared.outbox.models import OutboxAttachment, OutboxMessage, OutboxState
from shared.outbox.smtp import (
    ConnectError,
    MailAttachment,
    Outcome,
    Outgoing,
    Result,
    SmtpConfig,
    SmtpConnection,
    envelope_address,
    render_message,
)
from shared.settings import get_settings

log = logging.getLogger("gongzhi.outbox")

T = TypeVar("T")
_t = OutboxMessage.__table__  # type: ignore[attr-defined]
_a = OutboxAttachment.__table__  # type: ignore[attr-defined]


class RelayPolicy(BaseSettings):
    """Delivery tuning; environment variables GONGZHI_OUTBOX_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="GONGZHI_OUTBOX_", env_file=".env", extra="ignore")

    batch_size: int = 50
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 1800.0
    max_attempts: int = 15
    # A row `sending` for longer than this lost its worker.  Must exceed the
    # longest legitimate round: round_seconds + one SMTP timeout + settling.
    stale_seconds: float = 300.0
    # One relay run stops claiming after this; beat starts the next one.
    run_seconds: float = 50.0
    # One round stops sending after this and hands unsent rows back untouched.
    round_seconds: float = 60.0

    def backoff(self, attempts: int) -> timedelta:
        """30 s, 1 min, 2 min, 4 min … capped: a dead server is not hammered."""
        seconds = self.backoff_seconds * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


@dataclass
class RelayReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    released: int = 0
    rounds: int = 0
    smtp_error: str | None = None

    def as_dict(self) -> dict[str, int | str | None]:
        return asdict(self)


@dataclass(frozen=True)
class _Claimed:
    item: Outgoing
    attempts: int
    attachment_count: int = 0


# ------------------------------------------------------------------ database steps


def _is_disconnect(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError)


class _Db:
    """One connection held for a whole relay run, transactions retried through short outages.

    Holding the connection matters on SQLite, where closing the last connection
    checkpoints the WAL (milliseconds per round); on PostgreSQL it saves a pool
    checkout per transaction.  A connection broken by a restart or
    pg_terminate_backend is dropped and the whole transaction runs again on a
    new one.
    """

    def __init__(self, engine: Engine, tries: int = 6) -> None:
        self.engine = engine
        self.tries = tries
        self._conn: Connection | None = None
        # One statement is a transaction of its own: on PostgreSQL it can skip
        # BEGIN and COMMIT, two of a round's three round trips.
        self.single_statement_commits = engine.dialect.name == "postgresql"
        self._autocommit = False

    def transaction(self, what: str, fn: Callable[[Connection], T], *, one_statement: bool = False) -> T:
        """Run fn in a transaction; `one_statement` says fn executes a single statement."""
        autocommit = one_statement and self.single_statement_commits
        delay = 0.2
        for attempt in range(1, self.tries + 1):
            try:
                if self._conn is None or self._conn.invalidated:
                    self.close()
                    self._conn = self.engine.connect()
                conn = self._conn
                if autocommit != self._autocommit:
                    # Client-side only (no round trip); allowed between transactions.
                    conn.execution_options(isolation_level="AUTOCOMMIT" if autocommit
                                           else conn.default_isolation_level)
                    self._autocommit = autocommit
                with conn.begin():
                    return fn(conn)
            except DBAPIError as exc:
                self.close()
                if attempt == self.tries or not _is_disconnect(exc):
                    raise
                log.warning("outbox %s: database unavailable (%s); retrying in %.1fs", what,
                            exc.__class__.__name__, delay)
                time.sleep(delay)
                delay = min(delay * 2, 3.0)
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._autocommit = False
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


def claim(engine: Engine, now: datetime, limit: int) -> list[_Claimed]:
    """Mark up to `limit` due pending rows as sending and commit; return what was claimed."""
    db = _Db(engine)
    try:
        return db.transaction("claim", partial(_claim, now=now, limit=limit))
    finally:
        db.close()


def _claim(conn: Connection, *, now: datetime, limit: int) -> list[_Claimed]:
    """One statement: UPDATE … WHERE id IN (the due rows, locked) RETURNING what to send."""
    stmt = _claim_statement(conn.dialect.name, settles=False)
    return _with_attachments(conn, _claimed(conn.execute(stmt, {"now": now, "limit": limit})))


# The round's statements are built once, with parameters: a relay runs one
# every few milliseconds, and building them cost as much as executing them.
_NOW = bindparam("now", type_=_t.c.next_attempt_at.type)
# Not named after a column: a parameter named like one would be SET as well.
_CLAIMED_AT = bindparam("round_claimed_at", type_=_t.c.claimed_at.type)


@functools.cache
def _claim_statement(dialect: str, *, settles: bool) -> Update:
    """Parameters now, limit; with `settles` (PostgreSQL) also those of `_mark_sent_statement`."""
    # Ordered exactly as the (state, next_attempt_at, id) index is, so the claim
    # reads `limit` index entries and stops: a pass enqueues thousands of digests
    # with the same next_attempt_at, and sorting them on every claim cost O(n²).
    # The id settles ties, so a backlog goes out oldest first whichever plan the
    # server picks (a small table's sort is not stable without it).
    due = (
        select(_t.c.id)
        .where(_t.c.state == OutboxState.PENDING.value, _t.c.next_attempt_at <= _NOW)
        .order_by(_t.c.next_attempt_at, _t.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if dialect == "postgresql":
        # A materialized CTE runs the locking LIMIT query exactly once; as a plain
        # IN (subquery) the planner may re-run it and claim more than `limit`.
        locked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        ids = select(locked.c.id).scalar_subquery()
    else:
        ids = due.scalar_subquery()
    stmt = (
        update(_t)
        .where(_t.c.id.in_(ids), _t.c.state == OutboxState.PENDING.value)
        .values(state=OutboxState.SENDING.value, claimed_at=_NOW, attempts=_t.c.attempts + 1)
        .returning(_t.c.id, _t.c.dedup_key, _t.c.kind, _t.c.to_address, _t.c.subject,
                   _t.c.body_text, _t.c.body_html, _t.c.attempts, _t.c.attachment_count)
    )
    if settles:
        # WITH settled AS (UPDATE … sent), due AS (…) UPDATE … claimed RETURNING:
        # the two updates cannot meet, one takes the last round's `sending` rows,
        # the other `pending` ones.
        stmt = stmt.add_cte(_mark_sent_statement().cte("settled"))
    return stmt


@functools.cache
def _mark_sent_statement() -> Update:
    """Parameters sent_ids, round_claimed_at, now."""
    return (
        update(_t)
        .where(_t.c.id.in_(bindparam("sent_ids", expanding=True)),
               _t.c.state.in_([OutboxState.SENDING.value, OutboxState.UNKNOWN.value]),
               _t.c.claimed_at == _CLAIMED_AT)
        .values(state=OutboxState.SENT.value, sent_at=_NOW, last_error=None)
    )


def _claimed(rows: Iterable[Row[Any]]) -> list[_Claimed]:
    return sorted(
        (_Claimed(Outgoing(r.id, r.dedup_key, r.kind, r.to_address, r.subject, r.body_text, r.body_html),
                  r.attempts, r.attachment_count) for r in rows),
        key=lambda c: c.item.id,
    )


def _with_attachments(conn: Connection, claimed: list[_Claimed]) -> list[_Claimed]:
    """Load the files of the claimed messages that have any (one query, and none for a round without)."""
    ids = [c.item.id for c in claimed if c.attachment_count]
    if not ids:
        return claimed
    files: dict[int, list[MailAttachment]] = {}
    rows = conn.execute(select(_a.c.message_id, _a.c.filename, _a.c.content_type, _a.c.content)
                        .where(_a.c.message_id.in_(ids)).order_by(_a.c.message_id, _a.c.position))
    for r in rows:
        files.setdefault(r.message_id, []).append(MailAttachment(r.filename, r.content_type, bytes(r.content)))
    return [replace(c, item=replace(c.item, attachments=tuple(files[c.item.id]))) if c.item.id in files else c
            for c in claimed]


def _settle(
    conn: Connection,
    *,
    claimed_at: datetime,
    now: datetime,
    outcomes: Sequence[tuple[_Claimed, Result]],
    released: Sequence[_Claimed],
    policy: RelayPolicy,
) -> RelayReport:
    """Record a round's outcomes in one transaction.

    Every update is guarded by (state, claimed_at) so a relay that was presumed
    dead cannot overwrite what an admin decided meanwhile.
    """
    report = RelayReport()
    owned = (_t.c.state.in_([OutboxState.SENDING.value, OutboxState.UNKNOWN.value]),
             _t.c.claimed_at == claimed_at)
    sent_ids = [c.item.id for c, r in outcomes if r.outcome is Outcome.SENT]
    if sent_ids:
        conn.execute(_mark_sent_statement(), {"sent_ids": sent_ids, "round_claimed_at": claimed_at, "now": now})
        report.sent = len(sent_ids)
    for c, r in outcomes:
        values: dict[str, object]
        if r.outcome is Outcome.SENT:
            continue
        if r.outcome is Outcome.RETRY and c.attempts < policy.max_attempts:
            values = {"state": OutboxState.PENDING.value, "last_error": r.error,
                      "next_attempt_at": now + policy.backoff(c.attempts)}
            report.retried += 1
        elif r.outcome is Outcome.UNKNOWN:
            values = {"state": OutboxState.UNKNOWN.value, "last_error": r.error}
            report.unknown += 1
        else:
            error = r.error or ""
            if r.outcome is Outcome.RETRY:
                error = f"gave up after {c.attempts} attempts: {error}"
            values = {"state": OutboxState.FAILED.value, "last_error": error[:2000]}
            report.failed += 1
        conn.execute(update(_t).where(_t.c.id == c.item.id, *owned).values(**values))
    if released:
        conn.execute(
            update(_t)
            .where(_t.c.id.in_([c.item.id for c in released]),
                   _t.c.state == OutboxState.SENDING.value, _t.c.claimed_at == claimed_at)
            .values(state=OutboxState.PENDING.value, attempts=_t.c.attempts - 1, claimed_at=None)
        )
        report.released = len(released)
    return report


def reap(engine: Engine | None = None, clock: Clock | None = None,
         policy: RelayPolicy | None = None) -> int:
    """`sending` rows older than the stale threshold lost their worker: mark them unknown.

    Never re-sent automatically — the message may have reached the recipient.
    """
    engine = engine or get_engine()
    clock = clock or SystemClock()
    policy = policy or RelayPolicy()
    cutoff = clock.now() - timedelta(seconds=policy.stale_seconds)

    def _reap(conn: Connection) -> list[int]:
        stale = (_t.c.state == OutboxState.SENDING.value, _t.c.claimed_at < cutoff)
        ids = list(conn.execute(select(_t.c.id).where(*stale)).scalars())
        if ids:
            conn.execute(
                update(_t).where(_t.c.id.in_(ids), *stale).values(
                    state=OutboxState.UNKNOWN.value,
                    last_error="worker stopped while sending; delivery unknown — resend or discard",
                )
            )
        return ids

    db = _Db(engine)
    try:
        ids = db.transaction("reap", _reap)
    finally:
        db.close()
    if ids:
        log.warning("outbox: %d message(s) in doubt moved to unknown: %s", len(ids), ids[:50])
    return len(ids)


def _settle_and_claim(
    conn: Connection,
    *,
    claimed_at: datetime,
    now: datetime,
    outcomes: Sequence[tuple[_Claimed, Result]],
    released: Sequence[_Claimed],
    policy: RelayPolicy,
    claim_next: bool,
) -> tuple[RelayReport, list[_Claimed]]:
    sent_ids = [c.item.id for c, _ in outcomes]
    if sent_ids and claim_next and _all_sent(outcomes, released) and conn.dialect.name == "postgresql":
        # The usual round as one statement, which commits without BEGIN and COMMIT.
        rows = conn.execute(_claim_statement("postgresql", settles=True), {
            "sent_ids": sent_ids, "round_claimed_at": claimed_at, "now": now, "limit": policy.batch_size,
        })
        return RelayReport(sent=len(sent_ids)), _with_attachments(conn, _claimed(rows))
    report = _settle(conn, claimed_at=claimed_at, now=now, outcomes=outcomes, released=released,
                     policy=policy)
    return report, (_claim(conn, now=now, limit=policy.batch_size) if claim_next else [])


def _all_sent(outcomes: Sequence[tuple[_Claimed, Result]], released: Sequence[_Claimed]) -> bool:
    return not released and all(r.outcome is Outcome.SENT for _, r in outcomes)


# ------------------------------------------------------------------ the run


def run(
    engine: Engine | None = None,
    clock: Clock | None = None,
    *,
    smtp: SmtpConfig | None = None,
    mail_from: str | None = None,
    policy: RelayPolicy | None = None,
) -> RelayReport:
    """Deliver due messages until none are left or the run budget is spent."""
    settings = get_settings()
    engine = engine or get_engine()
    clock = clock or SystemClock()
    smtp = smtp or SmtpConfig.from_url(settings.smtp_url)
    mail_from = mail_from or settings.mail_from
    policy = policy or RelayPolicy()
    sender = envelope_address(mail_from)
    total = RelayReport()
    deadline = time.monotonic() + policy.run_seconds
    connection = SmtpConnection(smtp)
    db = _Db(engine)
    renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-render")
    try:
        claimed_at = clock.now()
        batch = db.transaction("claim", partial(_claim, now=claimed_at, limit=policy.batch_size),
                               one_statement=True)
        while batch:
            total.claimed += len(batch)
            total.rounds += 1
            outcomes, released, smtp_error = _send_round(connection, batch, sender, mail_from, clock, policy,
                                                         renderer)
            go_on = not smtp_error and time.monotonic() < deadline
            next_at = clock.now()
            # Settle this round and claim the next in one transaction: one commit per round
            # (on PostgreSQL one statement, when every message went out).
            report, batch = db.transaction("settle", partial(
                _settle_and_claim, claimed_at=claimed_at, now=next_at, outcomes=outcomes,
                released=released, policy=policy, claim_next=go_on,
            ), one_statement=_all_sent(outcomes, released))
            claimed_at = next_at
            for field in ("sent", "retried", "failed", "unknown", "released"):
                setattr(total, field, getattr(total, field) + getattr(report, field))
            if smtp_error:
                total.smtp_error = smtp_error
                log.warning("outbox: SMTP unavailable, %d message(s) back off: %s",
                            report.retried, smtp_error)
    finally:
        renderer.shutdown()
        connection.close()
        db.close()
    if total.claimed:
        log.info("outbox relay: %s", total.as_dict())
    return total


def _send_round(
    connection: SmtpConnection,
    batch: list[_Claimed],
    sender: str,
    mail_from: str,
    clock: Clock,
    policy: RelayPolicy,
    renderer: Executor,
) -> tuple[list[tuple[_Claimed, Result]], list[_Claimed], str | None]:
    """Send a claimed round; each message is rendered on `renderer` while the one before it is sent.

    `SMTP.data` sends the body and waits for the server's answer in one call,
    so the next message can only be built alongside it on another thread: the
    wait releases the GIL, and one message ahead never holds it long.
    """
    outcomes: list[tuple[_Claimed, Result]] = []
    round_deadline = time.monotonic() + policy.round_seconds
    upcoming = renderer.submit(_prepare, batch[0].item, mail_from, clock)
    for index, claimed in enumerate(batch):
        if index and time.monotonic() > round_deadline:  # always send one: progress is guaranteed
            return outcomes, batch[index:], None
        if not connection.is_open:
            try:
                connection.open()
            except ConnectError as exc:
                error = str(exc)[:2000]
                outcomes.extend((c, Result(Outcome.RETRY, error)) for c in batch[index:])
                return outcomes, [], error
        payload = upcoming.result()
        if index + 1 < len(batch):
            upcoming = renderer.submit(_prepare, batch[index + 1].item, mail_from, clock)
        if isinstance(payload, Result):
            outcomes.append((claimed, payload))
            continue
        outcomes.append((claimed, connection.send(sender, envelope_address(claimed.item.to_address), payload)))
    return outcomes, [], None


def _prepare(item: Outgoing, mail_from: str, clock: Clock) -> bytes | Result:
    """The message as it goes out, or why it can never be sent."""
    try:
        return render_message(item, mail_from=mail_from, now=clock.now())
    except (UnicodeError, ValueError) as exc:  # e.g. a non-ASCII address: it will never go out
        return Result(Outcome.FAILED, f"cannot build the message: {exc}"[:2000])

