"""Is a notice still true for its reader?  The rule for every kind, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.notifications.currency import Ask, Verdict, actor_of, read

SPORTS, MARKET = 6, 1  # the assigned department; the case's lead (the coordinator's)


@dataclass(frozen=True)
class Reader:
    id: int
    role: str
    department_id: int


@dataclass(frozen=True)
class Now:
    state: str
    department_id: int = SPORTS
    return_count: int = 0
    needs_decision: bool = False
    lead_department_id: int = MARKET
    coordinator_id: int | None = 1
    pending_extension_id: int | None = None


COORDINATOR = Reader(1, "coordinator", MARKET)
LIAISON = Reader(2, "liaison", SPORTS)
HEAD = Reader(3, "head", SPORTS)
OTHER_LIAISON = Reader(4, "liaison", 3)
LEADER = Reader(5, "leader", MARKET)

CASES = [
    # (notice kind, params, the assignment now, reader) -> (verdict, ask)
    ("dispatched", {}, Now("dispatched"), LIAISON, Verdict.CURRENT, Ask.ACCEPT),
    ("dispatched", {}, Now("accepted"), LIAISON, Verdict.MOVED_ON, Ask.ACCEPT),
    ("dispatched", {}, Now("returned"), LIAISON, Verdict.MOVED_ON, Ask.ACCEPT),
    ("dispatched", {}, Now("dispatched"), OTHER_LIAISON, Verdict.GONE, Ask.ACCEPT),
    ("dispatched", {}, Now("dispatched"), LEADER, Verdict.GONE, Ask.ACCEPT),
    ("accept_overdue", {}, Now("dispatched"), LIAISON, Verdict.CURRENT, Ask.ACCEPT),
    ("overdue", {}, Now("accepted"), LIAISON, Verdict.CURRENT, Ask.SUBMIT),
    ("overdue", {}, Now("dispatched"), LIAISON, Verdict.CURRENT, Ask.ACCEPT),
    ("overdue", {}, Now("submitted"), LIAISON, Verdict.MOVED_ON, Ask.SUBMIT),
    ("urge", {}, Now("accepted"), HEAD, Verdict.CURRENT, Ask.SUBMIT),
    ("escalation", {}, Now("accepted"), COORDINATOR, Verdict.CURRENT, Ask.FOLLOW_UP),
    ("escalation", {}, Now("done"), COORDINATOR, Verdict.MOVED_ON, Ask.FOLLOW_UP),
    ("extension_requested", {"extension_id": 9}, Now("accepted", pending_extension_id=9), HEAD,
     Verdict.CURRENT, Ask.DECIDE_EXTENSION),
    ("extension_requested", {"extension_id": 9}, Now("accepted", pending_extension_id=9), COORDINATOR,
     Verdict.CURRENT, Ask.DECIDE_EXTENSION),
    ("extension_requested", {"extension_id": 9}, Now("accepted"), HEAD, Verdict.MOVED_ON, Ask.DECIDE_EXTENSION),
    # Decided, and the department asked again: the old request is not the one pending.
    ("extension_pending", {"extension_id": 9}, Now("accepted", pending_extension_id=12), HEAD,
     Verdict.MOVED_ON, Ask.DECIDE_EXTENSION),
    ("extension_requested", {"extension_id": 9}, Now("accepted", pending_extension_id=9), LIAISON,
     Verdict.GONE, Ask.DECIDE_EXTENSION),
    ("submitted", {}, Now("submitted"), COORDINATOR, Verdict.CURRENT, Ask.REVIEW),
    ("review_pending", {}, Now("accepted"), COORDINATOR, Verdict.MOVED_ON, Ask.REVIEW),
    ("submitted", {}, Now("submitted"), LIAISON, Verdict.GONE, Ask.REVIEW),
    ("returned", {}, Now("returned"), COORDINATOR, Verdict.CURRENT, Ask.REDISPATCH),
    ("returned", {"needs_decision": True}, Now("returned", return_count=2, needs_decision=True), COORDINATOR,
     Verdict.CURRENT, Ask.DECIDE_RETURN),
    ("return_pending", {}, Now("dispatched"), COORDINATOR, Verdict.MOVED_ON, Ask.REDISPATCH),
    ("sent_back", {}, Now("accepted"), LIAISON, Verdict.CURRENT, Ask.SUBMIT),
    ("sent_back", {}, Now("submitted"), LIAISON, Verdict.MOVED_ON, Ask.SUBMIT),
    ("approved", {}, Now("done"), LIAISON, Verdict.CURRENT, None),
    ("cancelled", {}, Now("cancelled"), LIAISON, Verdict.CURRENT, None),
    ("extension_decided", {}, Now("submitted"), LIAISON, Verdict.CURRENT, None),
]


@pytest.mark.parametrize(("kind", "params", "now", "reader", "verdict", "ask"), CASES)
def test_a_notice_is_read_against_the_assignment_now(
    kind: str, params: dict[str, object], now: Now, reader: Reader, verdict: Verdict, ask: Ask | None
) -> None:
    reading = read(kind, params, now, actor_of(reader))
    assert (reading.verdict, reading.ask) == (verdict, ask)
