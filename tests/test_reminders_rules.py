"""The ladder as pure rules: one most urgent stage per audience."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from shared.reminders import rules
from shared.reminders.rules import Audience, DeadlineFacts, Ladder, Stage

L, H, C = Audience.LIAISONS, Audience.HEADS, Audience.COORDINATOR


def facts(**kw: object) -> DeadlineFacts:
    values: dict[str, object] = dict(dispatched=False, acceptance_overdue=False, overdue=False,
                                     overdue_working_days=0, due_today=False, working_days_ahead=5)
    values.update(kw)
    return DeadlineFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("f", "expected"), [
    (facts(), {}),
    (facts(working_days_ahead=3), {}),
    (facts(working_days_ahead=2, due_soon=True), {L: Stage.DUE_SOON}),
    (facts(working_days_ahead=1, due_soon=True), {L: Stage.DUE_SOON}),
    (facts(dispatched=True, acceptance_overdue=True), {L: Stage.ACCEPT_OVERDUE}),
    (facts(dispatched=True, acceptance_overdue=True, working_days_ahead=1, due_soon=True),
     {L: Stage.ACCEPT_OVERDUE}),
    (facts(due_today=True, working_days_ahead=0, due_soon=True), {L: Stage.DUE_TODAY}),
    (facts(due_today=True, dispatched=True, acceptance_overdue=True, working_days_ahead=0),
     {L: Stage.DUE_TODAY}),
    (facts(overdue=True, working_days_ahead=0), {L: Stage.OVERDUE}),
    (facts(overdue=True, overdue_working_days=1, working_days_ahead=0), {L: Stage.OVERDUE, H: Stage.URGE}),
    (facts(overdue=True, overdue_working_days=2, working_days_ahead=0), {L: Stage.OVERDUE, H: Stage.URGE}),
    (facts(overdue=True, overdue_working_days=3, working_days_ahead=0),
     {L: Stage.OVERDUE, H: Stage.ESCALATION, C: Stage.ESCALATION}),
])
def test_deadline_stages(f: DeadlineFacts, expected: dict[Audience, Stage]) -> None:
    assert rules.deadline_stages(f) == expected


def test_ladder_is_configurable() -> None:
    # The due-soon window is status.due_soon_cutoff's (tests/test_status_everywhere.py).
    strict = Ladder(due_soon_working_days=3, urge_after_working_days=2, escalate_after_working_days=5)
    assert rules.deadline_stages(facts(overdue=True, overdue_working_days=1, working_days_ahead=0), strict) \
        == {L: Stage.OVERDUE}
    assert rules.deadline_stages(facts(overdue=True, overdue_working_days=4, working_days_ahead=0), strict) \
        == {L: Stage.OVERDUE, H: Stage.URGE}


def test_escalation_cannot_be_opted_out_of() -> None:
    assert "escalation" not in rules.OPTIONAL_KINDS
    assert rules.wants("escalation", ["escalation", "overdue"])
    assert not rules.wants("overdue", ["escalation", "overdue"])
    assert rules.wants("dispatched", None)


def test_urgency_order() -> None:
    assert rules.more_urgent("due_soon", "escalation") == "escalation"
    assert rules.more_urgent("overdue", "accept_overdue") == "overdue"
    assert rules.GROUP_ORDER[0] == "escalation" and rules.GROUP_ORDER[-1] == "events"


def test_keys_are_made_of_ids_and_dates() -> None:
    assert rules.reminder_key("overdue", 12, 34, date(2026, 12, 1)) == "reminder:overdue:12:34:2026-12-01"
    assert rules.event_key("dispatched", 12, 3, 34) == "event:dispatched:12:v3:34"
    assert rules.event_key("extension_decided", 12, 5, 34, 9) == "event:extension_decided:12:v5:34:9"
    assert (rules.group_reminder_key("accept_overdue", 12, "liaisons", 7, date(2026, 12, 1))
            == "reminder:accept_overdue:12:liaisons@7:2026-12-01")
    day = date(2026, 12, 1)
    key = rules.digest_key(34, day, ["b", "a"])
    assert key.startswith("digest:34:2026-12-01:")
    # The same notices make the same email (a retried pass adds nothing); other notices another.
    assert key == rules.digest_key(34, day, ["a", "b"]) != rules.digest_key(34, day, ["a"])
    assert rules.digest_key(35, day, ["a", "b"]) != key


def test_sending_hours() -> None:
    start, close = time(8, 30), time(17, 30)
    assert not rules.within_sending_hours(datetime(2026, 10, 12, 8, 29), start, close)
    assert rules.within_sending_hours(datetime(2026, 10, 12, 8, 30), start, close)
    assert rules.within_sending_hours(datetime(2026, 10, 12, 17, 29), start, close)
    assert not rules.within_sending_hours(datetime(2026, 10, 12, 17, 30), start, close)
