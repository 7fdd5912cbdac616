"""Copies kept in memory that the database itself invalidates (PostgreSQL LISTEN/NOTIFY).

Four answers are read far more often than what they are made of changes: a
department's queue, the user a bearer token signs in, the departments and
campaigns pages name and offer (shared.departments.choices), and the first page
of a reader's case list (shared.cases.queries.list_cases).  Each API process
keeps them (`Kept`, per engine) and serves them without a statement, on one
condition: nothing they were read from may have changed since.  The database
says when it does:

* triggers (`TRIGGERS`, created with the tables and by the migration) call
  `pg_notify(CHANNEL, …)` in the transaction of every INSERT, UPDATE, DELETE or
  TRUNCATE on what those answers are read from, whoever issues it: a use case, a
  worker, an admin in psql, a data fix, a migration.  The payload names what
  changed: `d:3,7` the queues of departments 3 and 7 (assignment,
  extension_request, assignment_urge (督办), and a case's reference, title, lead department or
  coordinator), `u:12` the sign-in of user 12 (its `user` row or its tokens),
  `r:*` the departments and campaigns (any write to either table), `c:0,3,7`
  the first pages of the case lists of departments 3 and 7 and of everyone's
  (a case, or a share, those readers see);
  `d:*`, `u:*` or `*` when too many to list.  PostgreSQL delivers it at commit,
  and only then.
* one listener per process and database (`start`): a daemon thread with its
  own connection doing LISTEN, which drops the kept copies named.  A request
  that would serve a kept copy first applies whatever has already reached that
  connection (`Watch.confirm`: a poll of its socket, no statement), so it does
  not wait for the thread to be scheduled.
* while the listener is not listening — not yet connected, its connection lost
  or hung on a health check — nothing is kept: everything kept is dropped when
  it stops, `Kept.get` answers None and `Kept.put` keeps nothing, so every
  request reads the database.  A copy kept from before is never trusted again
  after a gap in which a notification could have been missed.
* a read that raced a change is not kept: `Kept.ticket`, taken before the read,
  names the generation of what it reads; a notification between the two bumps
  it, and `put` then keeps nothing.
* a write committed through this process's own engine (a use case, a worker
  task in the API process, a script's session) also drops the copies of the
  kinds it wrote, synchronously as it commits (`_written`, `_committing`),
  so the writer's next request never waits on the notification.  A write
  committed elsewhere (another API process, a worker, psql) counts here when
  PostgreSQL delivers its notification: tens of microseconds on a quiet
  machine, milliseconds on a loaded one (bench/queue_notify.py measures it).

SQLite has no NOTIFY: there the queue keeps its rows against the stamp that
its own triggers bump (shared.departments.models.QueueStamp), read on every
request, and sign-in reads the token every time.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import DDL, Engine, event
from sqlmodel import SQLModel

log = logging.getLogger("gongzhi.invalidation")

CHANNEL = "gongzhi_kept"
DEPARTMENT = "d"  # a department's queue
USER = "u"  # a user's sign-in: the user row and its tokens
REFERENCE = "r"  # departments and campaigns as pages name and offer them (shared.departments.choices)
CASE_LISTS = "c"  # the first page of a reader's whole case list (shared.cases.queries), by department; 0: everyone's
APPLICATION_NAME = "gongzhi-kept-listener"  # how the listener shows in pg_stat_activity

PING_SECONDS = 5.0  # an idle listener checks its connection this often
CONFIRM_WAIT_SECONDS = 0.005  # a request waits this long for the listener's lock, then reads the database
RECONNECT_MAX_SECONDS = 5.0

# ------------------------------------------------------------------ the triggers (PostgreSQL)

# One call per statement, over its transition tables, so a bulk change sends one
# notification.  PostgreSQL folds identical notifications of one transaction.
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION kept_copies_notify() RETURNS trigger AS $$
DECLARE
    kind text := '{DEPARTMENT}';
    ids integer[] := '{{}}';
    payload text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{CHANNEL}', '*');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME IN ('department', 'campaign') THEN
        PERFORM pg_notify('{CHANNEL}', '{REFERENCE}:*');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'case' THEN
        ids := ARRAY(
            SELECT a.department_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN assignment a ON a.case_id = n.id
            WHERE (n.reference, n.title, n.lead_department_id, n.coordinator_id)
                  IS DISTINCT FROM (o.reference, o.title, o.lead_department_id, o.coordinator_id));
    ELSIF TG_TABLE_NAME IN ('extension_request', 'assignment_urge') THEN
        IF TG_OP <> 'DELETE' THEN
            ids := ARRAY(SELECT a.department_id FROM new_rows n JOIN assignment a ON a.id = n.assignment_id);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || ARRAY(SELECT a.department_id FROM old_rows o JOIN assignment a ON a.id = o.assignment_id);
        END IF;
    ELSIF TG_TABLE_NAME = 'assignment' THEN
        IF TG_OP <> 'DELETE' THEN
            ids := ARRAY(SELECT department_id FROM new_rows);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || ARRAY(SELECT department_id FROM old_rows);
        END IF;
    ELSIF TG_TABLE_NAME = 'user' THEN
        kind := '{USER}';
        IF TG_OP <> 'DELETE' THEN
            ids := ARRAY(SELECT id FROM new_rows);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || ARRAY(SELECT id FROM old_rows);
        END IF;
    ELSE  -- auth_token: a new token changes no kept one, so INSERT has no trigger
        kind := '{USER}';
        ids := ARRAY(SELECT user_id FROM old_rows);
    END IF;
    IF cardinality(ids) = 0 THEN
        RETURN NULL;
    END IF;
    payload := kind || ':' || array_to_string(ARRAY(SELECT DISTINCT i FROM unnest(ids) AS i ORDER BY i), ',');
    IF length(payload) > 7000 THEN  -- NOTIFY payloads stop at 8000 bytes
        payload := kind || ':*';
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

_ROW_TRIGGERS = (
    ("assignment", "INSERT", "NEW TABLE AS new_rows"),
    ("assignment", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("assignment", "DELETE", "OLD TABLE AS old_rows"),
    ("extension_request", "INSERT", "NEW TABLE AS new_rows"),
    ("extension_request", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("extension_request", "DELETE", "OLD TABLE AS old_rows"),
    ("assignment_urge", "INSERT", "NEW TABLE AS new_rows"),
    ("assignment_urge", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("assignment_urge", "DELETE", "OLD TABLE AS old_rows"),
    ('"case"', "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ('"user"', "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ('"user"', "DELETE", "OLD TABLE AS old_rows"),
    ("auth_token", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("auth_token", "DELETE", "OLD TABLE AS old_rows"),
)
_REFERENCE_TABLES = ("department", "campaign")  # any write drops the one kept copy: no rows to look at
_TRUNCATED = ("assignment", "extension_request", "assignment_urge", '"case"', '"user"', "auth_token",
              *_REFERENCE_TABLES)
# What each watched table's writes invalidate, for writes committed in this process.
WATCHED: dict[str, frozenset[str]] = {
    "assignment": frozenset({DEPARTMENT}), "extension_request": frozenset({DEPARTMENT}),
    "assignment_urge": frozenset({DEPARTMENT}), "case": frozenset({DEPARTMENT, CASE_LISTS}),
    "case_share": frozenset({CASE_LISTS}), "user": frozenset({USER}), "auth_token": frozenset({USER}),
    "department": frozenset({REFERENCE}), "campaign": frozenset({REFERENCE})}

# A case list's first page changes with any case of the departments that see it (its lead and those it
# is shared with) and with their shares; everyone's list (subject 0: coordinators, leaders, admins)
# with any case.  A function of its own, as a case's UPDATE also notifies the queues above.
_PG_CASE_LISTS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION kept_case_lists_notify() RETURNS trigger AS $$
DECLARE
    ids integer[] := ARRAY[0];
    payload text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{CHANNEL}', '{CASE_LISTS}:*');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'case' THEN
        IF TG_OP <> 'DELETE' THEN
            ids := ids || ARRAY(SELECT lead_department_id FROM new_rows)
                || ARRAY(SELECT s.department_id FROM new_rows n JOIN case_share s ON s.case_id = n.id);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || ARRAY(SELECT lead_department_id FROM old_rows)
                || ARRAY(SELECT s.department_id FROM old_rows o JOIN case_share s ON s.case_id = o.id);
        END IF;
    ELSE  -- case_share
        IF TG_OP <> 'DELETE' THEN
            ids := ids || ARRAY(SELECT department_id FROM new_rows);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || ARRAY(SELECT department_id FROM old_rows);
        END IF;
    END IF;
    payload := '{CASE_LISTS}:' || array_to_string(ARRAY(SELECT DISTINCT i FROM unnest(ids) AS i ORDER BY i), ',');
    IF length(payload) > 7000 THEN
        payload := '{CASE_LISTS}:*';
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_CASE_LIST_TABLES = ('"case"', "case_share")
_REFS = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
         "DELETE": "OLD TABLE AS old_rows"}


def _name(table: str) -> str:
    return table.strip('"')


TRIGGERS: dict[str, list[str]] = {"postgresql": [
    _PG_FUNCTION,
    *(f"CREATE TRIGGER kept_{_name(table)}_{op.lower()} AFTER {op} ON {table} REFERENCING {refs} "
      "FOR EACH STATEMENT EXECUTE FUNCTION kept_copies_notify()" for table, op, refs in _ROW_TRIGGERS),
    *(f"CREATE TRIGGER kept_{table}_{op.lower()} AFTER {op} ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION kept_copies_notify()"
      for table in _REFERENCE_TABLES for op in ("INSERT", "UPDATE", "DELETE")),
    *(f"CREATE TRIGGER kept_{_name(table)}_truncate AFTER TRUNCATE ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION kept_copies_notify()" for table in _TRUNCATED),
    _PG_CASE_LISTS_FUNCTION,
    *(f"CREATE TRIGGER kept_lists_{_name(table)}_{op.lower()} AFTER {op} ON {table} REFERENCING {refs} "
      "FOR EACH STATEMENT EXECUTE FUNCTION kept_case_lists_notify()"
      for table in _CASE_LIST_TABLES for op, refs in _REFS.items()),
    *(f"CREATE TRIGGER kept_lists_{_name(table)}_truncate AFTER TRUNCATE ON {table} "
      "FOR EACH STATEMENT EXECUTE FUNCTION kept_case_lists_notify()" for table in _CASE_LIST_TABLES),
]}
DROP: dict[str, list[str]] = {"postgresql": ["DROP FUNCTION IF EXISTS kept_copies_notify() CASCADE",
                                             "DROP FUNCTION IF EXISTS kept_case_lists_notify() CASCADE"]}

for _dialect, _statements in TRIGGERS.items():
    for _statement in _statements:
        # After every table exists (create_all: tests, the benchmark's fallback); the migration runs the same text.
        event.listen(SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))


# ------------------------------------------------------------------ kept copies

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a read saw before it began: it may be kept only if none of it has moved since."""

    epoch: int
    subject: int | None  # None: any subject of the kind (the reader does not know it yet)
    generation: int


class Kept(Generic[K, V]):
    """Copies of one kind of answer, kept for one database in this process; each belongs to a subject.

    The subject is what a notification names (a department, a user).  At most
    `limit` copies; the oldest kept is dropped beyond it.
    """

    def __init__(self, watch: Watch, kind: str, limit: int) -> None:
        self._watch = watch
        self.kind = kind
        self._limit = limit
        self._entries: dict[K, tuple[int, V]] = {}
        self._generation: dict[int, int] = {}
        self._changes = 0  # bumped by every drop of this kind

    def get(self, key: K) -> V | None:
        """The kept copy, if the listener is listening and has applied everything that reached it."""
        if not self._watch.confirm():
            return None
        hit = self._entries.get(key)
        return None if hit is None else hit[1]

    def ticket(self, subject: int | None = None) -> Ticket | None:
        """Taken before reading the database; None when nothing may be kept now."""
        watch = self._watch
        if not watch.listening:
            return None
        generation = self._changes if subject is None else self._generation.get(subject, 0)
        return Ticket(watch.epoch, subject, generation)

    def put(self, ticket: Ticket | None, key: K, subject: int, value: V) -> bool:
        """Keep VALUE, read after TICKET was taken, unless something it was read from changed since."""
        watch = self._watch
        if ticket is None or not watch.lock.acquire(timeout=CONFIRM_WAIT_SECONDS):
            return False
        try:
            now = self._changes if ticket.subject is None else self._generation.get(ticket.subject, 0)
            if not watch.listening or watch.epoch != ticket.epoch or now != ticket.generation:
                return False
            self._entries.pop(key, None)
            while len(self._entries) >= self._limit:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (subject, value)
            return True
        finally:
            watch.lock.release()

    def discard(self, key: K) -> None:
        """Forget one copy (it expired)."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    # Called with the watch's lock held.
    def _drop(self, subjects: set[int] | None) -> None:
        self._changes += 1
        if subjects is None:
            self._entries.clear()
            self._generation.clear()  # the epoch or `_changes` already fails every ticket outstanding
            return
        for subject in subjects:
            self._generation[subject] = self._generation.get(subject, 0) + 1
        for key in [k for k, (subject, _) in self._entries.items() if subject in subjects]:
            del self._entries[key]


class Watch:
    """The listener of one database in this process, and the copies it keeps valid."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.lock = threading.Lock()
        self.listening = False
        self.epoch = 0
        self._stores: dict[str, Kept[Any, Any]] = {}
        self._conn: Any = None  # psycopg.Connection while listening
        self._socket = -1
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # stop() wakes the thread's select at once
        self._thread: threading.Thread | None = None
        self._users = 0
        self.notifications = 0  # applied so far (the benchmark and tests read it)
        self.last_notification = ""  # its payload

    def store(self, name: str, kind: str, limit: int) -> Kept[Any, Any]:
        kept = self._stores.get(name)
        if kept is not None:  # every request asks: no lock once it exists
            return kept
        with self.lock:
            kept = self._stores.get(name)
            if kept is None:
                kept = self._stores[name] = Kept(self, kind, limit)
            return kept

    # -------------------------------------------------------------- requests

    def confirm(self) -> bool:
        """True when kept copies may be served: listening, and whatever notification arrived is applied."""
        if not self.listening:
            return False
        try:
            readable = bool(select.select([self._socket], [], [], 0)[0])
        except (OSError, ValueError):
            readable = True
        if readable:
            if not self.lock.acquire(timeout=CONFIRM_WAIT_SECONDS):
                return False
            try:
                if self.listening:
                    self._drain()
            except Exception:  # noqa: BLE001 - a lost connection: the thread reconnects
                self._lost()
            finally:
                self.lock.release()
        return self.listening

    # -------------------------------------------------------------- the listener thread

    def start(self) -> None:
        self._users += 1
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="gongzhi-kept-listener", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._users -= 1
        if self._users > 0 or self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=PING_SECONDS + 5)
        self._thread = None
        os.read(self._wake_r, 64)

    @property
    def backend_pid(self) -> int | None:
        """The listener's PostgreSQL backend while it listens (pg_stat_activity's pid)."""
        conn = self._conn
        return None if conn is None else int(conn.pgconn.backend_pid)

    def wait_listening(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.listening

    def _run(self) -> None:
        import psycopg

        delay = 0.1
        while not self._stop.is_set():
            try:
                conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5,
                                       application_name=APPLICATION_NAME, keepalives=1, keepalives_idle=5,
                                       keepalives_interval=2, keepalives_count=3)
            except Exception as exc:  # noqa: BLE001 - the database is away: retry, keeping nothing meanwhile
                log.warning("kept copies: cannot listen (%s); retrying in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                continue
            try:
                # Notifications that psycopg reads while it runs the health check reach _notified too.
                conn.add_notify_handler(lambda n: self._notified(n.payload))
                conn.execute(f"LISTEN {CHANNEL}")
                with self.lock:
                    self._conn, self._socket = conn, conn.pgconn.socket
                    self._forget_all()  # nothing kept before now is trusted
                    self.listening = True
                delay = 0.1
                self._listen(conn)
            except Exception as exc:  # noqa: BLE001
                if not self._stop.is_set():
                    log.warning("kept copies: listener connection lost (%s); nothing is kept until it is back", exc)
            finally:
                with self.lock:
                    self._lost()
                conn.close()

    def _listen(self, conn: Any) -> None:
        last_check = time.monotonic()
        while not self._stop.is_set() and self.listening:
            readable = select.select([self._socket, self._wake_r], [], [], PING_SECONDS)[0]
            if self._wake_r in readable:
                return
            with self.lock:
                if not self.listening:
                    return
                if readable:
                    self._drain()
                    last_check = time.monotonic()
                elif time.monotonic() - last_check >= PING_SECONDS:
                    # A connection that died without a word (a network cut) shows here; while this
                    # waits, requests cannot confirm and read the database.
                    conn.execute("SELECT 1")
                    last_check = time.monotonic()

    # With the lock held.
    def _drain(self) -> None:
        from psycopg import OperationalError, pq

        pgconn = self._conn.pgconn
        for _ in range(16):
            pgconn.consume_input()
            while (n := pgconn.notifies()) is not None:
                self._notified(n.extra.decode())
            if pgconn.status != pq.ConnStatus.OK:
                raise OperationalError("the listener's connection is closed")
            if not select.select([self._socket], [], [], 0)[0]:
                return

    def _notified(self, payload: str) -> None:
        """A notification (the lock is held: by _drain or by the health check)."""
        self.notifications += 1
        self.last_notification = payload
        self._drop_named(payload)

    def _drop_named(self, payload: str) -> None:
        """Drop what PAYLOAD (a notification's: `d:3,7`, `u:*`, `*`) names; the lock is held."""
        kind, _, ids = payload.partition(":")
        try:
            subjects = None if ids in ("", "*") else {int(i) for i in ids.split(",")}
        except ValueError:  # not one of ours: whatever it names of a kind we keep, drop all of it
            subjects = None
        for kept in self._stores.values():
            if kind == "*" or kept.kind == kind:
                kept._drop(subjects)

    def _forget_all(self) -> None:
        self.epoch += 1
        for kept in self._stores.values():
            kept._drop(None)

    def _lost(self) -> None:
        if self.listening or self._conn is not None:
            self.listening = False
            self._conn, self._socket = None, -1
            self._forget_all()


_watches: WeakKeyDictionary[Engine, Watch] = WeakKeyDictionary()
_watches_lock = threading.Lock()


def watch(engine: Engine) -> Watch | None:
    """The engine's watch; None on a database without NOTIFY (SQLite)."""
    found = _watches.get(engine)
    if found is not None or engine.dialect.name != "postgresql":
        return found
    with _watches_lock:
        found = _watches.get(engine)
        if found is None:
            dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            found = _watches[engine] = Watch(dsn)
            event.listen(engine, "after_cursor_execute", _written)
            event.listen(engine, "commit", _committing)
            event.listen(engine, "rollback", _rolled_back)
            event.listen(engine, "checkin", _checked_in(engine))
        return found


# ------------------------------------------------------------------ writes committed in this process

_READS = ("SELECT", "SHOW", "SET", "BEGIN", "LISTEN", "EXPLAIN")


def _written(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    """Note which kinds of kept copies this transaction's statement may change."""
    kinds: set[str] | None
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        table = getattr(context.compiled.statement, "table", None)
        watched = WATCHED.get(getattr(table, "name", ""), frozenset()) if table is not None else {"*"}
        if not watched:
            return
        kinds = set(watched)
    elif statement.lstrip()[:8].upper().startswith(_READS):
        return
    else:  # text we cannot see into (an admin script's raw SQL): it may change anything
        kinds = {"*"}
    conn.info.setdefault("kept_written", set()).update(kinds)


def _drop_kinds(engine: Engine, kinds: set[str]) -> None:
    w = _watches.get(engine)
    if w is None:
        return
    with w.lock:
        for kind in kinds:
            w._drop_named(f"{kind}:*" if kind != "*" else "*")


def _committing(conn: Any) -> None:
    """Drop what this transaction wrote as it commits, so no request serves it after.

    Before the commit (so reads already under way are not kept), and again
    when the connection goes back to the pool, after it: a read that began in
    between saw the old rows.
    """
    kinds = conn.info.pop("kept_written", None)
    if kinds:
        conn.info["kept_committed"] = kinds
        _drop_kinds(conn.engine, kinds)


def _checked_in(engine: Engine) -> Any:
    def after(_dbapi_connection: Any, record: Any) -> None:
        kinds = record.info.pop("kept_committed", None) if record is not None else None
        if kinds:
            _drop_kinds(engine, kinds)
    return after


def _rolled_back(conn: Any) -> None:
    conn.info.pop("kept_written", None)


def may_keep(session: Any) -> bool:
    """Whether what SESSION's transaction has just read may be kept: not once the transaction has itself
    written what kept copies are read from, since that may yet be rolled back."""
    return not session.connection().info.get("kept_written")


def kept_or_read(store: Kept[K, V] | None, session: Any, key: K, subject: int, read: Callable[[], V]) -> V:
    """STORE's copy of KEY, else READ's answer, kept for SUBJECT unless SESSION's transaction has
    itself written what kept copies are read from: what it reads may yet be rolled back."""
    return kept_or_read_many(store, session, {key: subject}, lambda _missing: {key: read()})[key]


def kept_or_read_many(store: Kept[K, V] | None, session: Any, subjects: Mapping[K, int],
                      read: Callable[[set[K]], Mapping[K, V]]) -> dict[K, V]:
    """kept_or_read for several keys at once (each with its subject): READ is given the keys not kept
    and answers what it found of them, in one statement; a key it did not find is neither answered
    nor kept."""
    if store is None:
        return dict(read(set(subjects)))
    found: dict[K, V] = {}
    for key in subjects:
        hit = store.get(key)
        if hit is not None:
            found[key] = hit
    missing = set(subjects) - found.keys()
    if not missing:
        return found
    tickets = {key: store.ticket(subjects[key]) for key in missing}
    answered = read(missing)
    keep = may_keep(session)
    for key, value in answered.items():
        found[key] = value
        if keep and key in tickets:
            store.put(tickets[key], key, subjects[key], value)
    return found


def kept(engine: Engine, name: str, kind: str, limit: int) -> Kept[Any, Any] | None:
    """The engine's copies called NAME (created on first use); None without NOTIFY."""
    w = watch(engine)
    return None if w is None else w.store(name, kind, limit)


def start(engine: Engine) -> None:
    """Listen for the engine's database (an API process, from its start-up); nothing on SQLite."""
    w = watch(engine)
    if w is not None:
        w.start()


def stop(engine: Engine) -> None:
    w = watch(engine)
    if w is not None:
        w.stop()
