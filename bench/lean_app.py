"""A lean PROTOTYPE of GET /api/v1/queue — a reference point for the benchmark, not product code.

It answers the same JSON as the real endpoint (the benchmark checks that the
two responses are equal) but applies the fixes BENCHMARKS.md suggests, to show
what they are worth on this machine:

1. the bearer token is resolved once and cached in-process for 30 s (the real
   endpoint runs an ORM query per request);
2. the working calendar is re-checked at most every 60 s (the real endpoint
   runs two aggregate queries per request to fingerprint it);
3. counts and the 50 most urgent items come from ONE Core statement of plain
   columns (no ORM entities), the items served by a partial index if present;
4. the response is built as plain dicts and serialized once by pydantic-core,
   with no per-item pydantic model and no response-model re-validation;
5. the connection pool is as large as the thread pool, so connections are
   never opened and closed per request.

`/api/v1/queue-pgjson` goes one step further: PostgreSQL builds the whole
response document in that one statement and Python only passes the text on
(datetimes then read "+00:00" instead of "Z": the same instants).

Served exactly like the real app: `uvicorn bench.lean_app:create_app --factory`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Response
from pydantic_core import to_json
from sqlalchemy import text

from shared.assignments import rules
from shared.assignments.models import AssignmentState
from shared.calendar.rules import WorkingCalendar
from shared.db import make_engine
from shared.settings import get_settings

TOKEN_TTL_S = 30.0
CALENDAR_TTL_S = 60.0
ITEM_COLUMNS = (
    "id", "case_id", "case_reference", "case_title", "inspection_id", "department_id", "assignee_id",
    "instructions", "state", "dispatched_by", "dispatched_at", "acceptance_due_at", "feedback_due_at",
    "original_feedback_due_at", "working_days", "due_provisional", "accepted_at", "first_submitted_at",
    "done_at", "return_count", "return_reason", "return_note", "needs_decision", "cancel_reason",
    "updated_at", "version",
)
# Counts over the department's open items and its most urgent active items, in one round trip.
QUEUE_SQL = text("""
WITH counts AS (
    SELECT count(*) FILTER (WHERE state = 'dispatched') AS to_accept,
           count(*) FILTER (WHERE state = 'accepted') AS in_progress,
           count(*) FILTER (WHERE state IN ('dispatched', 'accepted')
                            AND feedback_due_at >= :now AND feedback_due_at <= :soon) AS due_soon,
           count(*) FILTER (WHERE state IN ('dispatched', 'accepted') AND feedback_due_at < :now) AS overdue,
           count(*) FILTER (WHERE state = 'submitted') AS awaiting_review
    FROM assignment
    WHERE department_id = :dept AND state IN ('dispatched', 'accepted', 'submitted')
), items AS (
    SELECT a.id, a.case_id, c.reference AS case_reference, c.title AS case_title, a.inspection_id,
           a.department_id, a.assignee_id, a.instructions, a.state, a.dispatched_by, a.dispatched_at,
           a.acceptance_due_at, a.feedback_due_at, a.original_feedback_due_at, a.working_days,
           a.due_provisional, a.accepted_at, a.first_submitted_at, a.done_at, a.return_count, a.return_reason,
           a.return_note, a.needs_decision, a.cancel_reason, a.updated_at, a.version
    FROM assignment a JOIN "case" c ON c.id = a.case_id
    WHERE a.department_id = :dept AND a.state IN ('dispatched', 'accepted')
    ORDER BY a.feedback_due_at, a.id
    LIMIT :limit
)
SELECT counts.*, items.* FROM counts LEFT JOIN items ON true
ORDER BY items.feedback_due_at, items.id
""")
TOKEN_SQL = text("""
SELECT u.id, u.department_id, u.role, u.active, t.expires_at, t.revoked
FROM auth_token t JOIN "user" u ON u.id = t.user_id WHERE t.token_hash = :h
""")
ACTIONS = {s.value: rules.allowed_actions(s) for s in AssignmentState}
DATETIMES = ("dispatched_at", "acceptance_due_at", "feedback_due_at", "original_feedback_due_at", "accepted_at",
             "first_submitted_at", "done_at", "updated_at")


def _actions_sql() -> str:
    """allowed_actions as a JSON literal per state (and without "return" after two returns)."""
    whens = []
    for state, actions in ACTIONS.items():
        capped = [a for a in actions if a != rules.Action.RETURN.value]
        whens.append(f"WHEN '{state}' THEN CASE WHEN i.return_count >= {rules.RETURNS_BEFORE_DECISION} "
                     f"THEN '{to_json(capped).decode()}'::json ELSE '{to_json(actions).decode()}'::json END")
    return "CASE i.state " + " ".join(whens) + " ELSE '[]'::json END"


PGJSON_SQL = text(f"""
WITH items AS (
    SELECT a.id, a.case_id, c.reference AS case_reference, c.title AS case_title, a.inspection_id,
           a.department_id, a.assignee_id, a.instructions, a.state, a.dispatched_by, a.dispatched_at,
           a.acceptance_due_at, a.feedback_due_at, a.original_feedback_due_at, a.working_days,
           a.due_provisional, a.accepted_at, a.first_submitted_at, a.done_at, a.return_count, a.return_reason,
           a.return_note, a.needs_decision, a.cancel_reason, a.updated_at, a.version
    FROM assignment a JOIN "case" c ON c.id = a.case_id
    WHERE a.department_id = :dept AND a.state IN ('dispatched', 'accepted')
    ORDER BY a.feedback_due_at, a.id
    LIMIT :limit
)
SELECT json_build_object(
    'department_id', CAST(:dept AS integer),
    'counts', (
        SELECT json_build_object(
            'to_accept', count(*) FILTER (WHERE state = 'dispatched'),
            'in_progress', count(*) FILTER (WHERE state = 'accepted'),
            'due_soon', count(*) FILTER (WHERE state IN ('dispatched', 'accepted')
                                         AND feedback_due_at >= :now AND feedback_due_at <= :soon),
            'overdue', count(*) FILTER (WHERE state IN ('dispatched', 'accepted') AND feedback_due_at < :now),
            'awaiting_review', count(*) FILTER (WHERE state = 'submitted'))
        FROM assignment WHERE department_id = :dept AND state IN ('dispatched', 'accepted', 'submitted')),
    'items', coalesce((
        SELECT json_agg(to_jsonb(i) || jsonb_build_object(
            'extended', i.feedback_due_at <> i.original_feedback_due_at,
            'acceptance_overdue', i.state = 'dispatched' AND :now > i.acceptance_due_at,
            'feedback_overdue', i.state IN ('dispatched', 'accepted') AND :now > i.feedback_due_at,
            'allowed_actions', {_actions_sql()}) ORDER BY i.feedback_due_at, i.id)
        FROM items i), '[]'::json)
)::text
""")


def create_app() -> FastAPI:
    settings = get_settings()
    # 5. the pool holds as many connections as requests may run at once (anyio's thread pool: 40),
    #    so none is opened and closed per request (the app's pool keeps 10 and churns the overflow).
    engine = make_engine(settings.database_url, pool_size=40, max_overflow=0)
    tokens: dict[str, tuple[float, tuple[int, int, str, datetime]]] = {}
    calendar: dict[str, Any] = {"at": 0.0, "value": None}
    lock = threading.Lock()
    app = FastAPI(title="lean queue prototype", openapi_url=None, docs_url=None, redoc_url=None)

    def user_for(token: str) -> tuple[int, int, str]:
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = tokens.get(key)
        if cached is None or time.monotonic() - cached[0] > TOKEN_TTL_S:
            with engine.connect() as conn:
                row = conn.execute(TOKEN_SQL, {"h": key}).first()
            if row is None or row.revoked or not row.active:
                raise HTTPException(401)
            cached = (time.monotonic(), (row.id, row.department_id, str(row.role), row.expires_at))
            tokens[key] = cached
        user_id, department_id, role, expires_at = cached[1]
        if expires_at <= datetime.now(UTC):
            raise HTTPException(401)
        return user_id, department_id, role

    def working_calendar() -> WorkingCalendar:
        if time.monotonic() - calendar["at"] > CALENDAR_TTL_S:
            from sqlmodel import Session

            from shared.calendar.service import working_calendar as load

            with lock, Session(engine) as session:
                calendar["value"] = load(session, settings)
                calendar["at"] = time.monotonic()
        value: WorkingCalendar = calendar["value"]
        return value

    @app.get("/api/v1/queue")
    def queue(authorization: str = Header(default=""), limit: int = 50) -> Response:
        if not authorization.lower().startswith("bearer "):
            raise HTTPException(401)
        _user_id, department_id, _role = user_for(authorization[7:].strip())
        now = datetime.now(UTC)
        soon = working_calendar().add_working_days(now, 2).at
        with engine.connect() as conn:
            rows = conn.execute(QUEUE_SQL, {"dept": department_id, "now": now, "soon": soon,
                                            "limit": limit}).all()
        first = rows[0]._mapping
        counts = {k: first[k] for k in ("to_accept", "in_progress", "due_soon", "overdue", "awaiting_review")}
        items = []
        for row in rows:
            m = row._mapping
            if m["id"] is None:
                continue
            item = {k: m[k] for k in ITEM_COLUMNS}
            for k in DATETIMES:  # the API speaks UTC ("…Z"), whatever the server's TimeZone
                if item[k] is not None:
                    item[k] = item[k].astimezone(UTC)
            state = item["state"]
            active = state in ("dispatched", "accepted")
            actions = ACTIONS[state]
            if item["return_count"] >= rules.RETURNS_BEFORE_DECISION:
                actions = [a for a in actions if a != rules.Action.RETURN.value]
            item.update(
                extended=item["feedback_due_at"] != item["original_feedback_due_at"],
                acceptance_overdue=state == "dispatched" and now > item["acceptance_due_at"],
                feedback_overdue=active and now > item["feedback_due_at"],
                allowed_actions=actions,
            )
            items.append(item)
        body = {"department_id": department_id, "counts": counts, "items": items}
        return Response(to_json(body), media_type="application/json")

    @app.get("/api/v1/queue-pgjson")
    def queue_pgjson(authorization: str = Header(default=""), limit: int = 50) -> Response:
        if not authorization.lower().startswith("bearer "):
            raise HTTPException(401)
        _user_id, department_id, _role = user_for(authorization[7:].strip())
        now = datetime.now(UTC)
        soon = working_calendar().add_working_days(now, 2).at
        with engine.connect() as conn:
            body = conn.execute(PGJSON_SQL, {"dept": department_id, "now": now, "soon": soon,
                                             "limit": limit}).scalar_one()
        return Response(body, media_type="application/json")

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
