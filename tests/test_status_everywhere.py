"""Open, overdue and due soon mean the same to the reminders, the queue, the lists and the pages.

shared/assignments/status.py decides each of them; these tests look at what a
user sees from each consumer at the boundaries where the old copies disagreed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.api.app import create_app
from shared.assignments import service as assignments
from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentState, ReturnReason
from shared.assignments.schemas import ReturnIn
from shared.cases import service as cases
from shared.clock import FrozenClock
from shared.errors import Conflict
from shared.reminders.service import run_pass
from shared.settings import Settings, get_settings
from tests.conftest import Api
from tests.factories import World
from tests.reminder_builders import local, make_assignment, make_case
from tests.test_pages import browser


def test_the_reminder_pass_does_not_call_work_overdue_at_its_due_instant(
    session: Session, clock: FrozenClock, world: World
) -> None:
    liaison = world.liaison("XFXH")
    case = make_case(session, world.coordinator)
    a = make_assignment(session, case, world.dept("XFXH").id, world.coordinator, at=local(2026, 11, 24, 9),
                        state=AssignmentState.ACCEPTED, assignee=liaison)
    # Due mid-afternoon (an approved extension can land anywhere in the day), inside sending hours.
    a.feedback_due_at = a.original_feedback_due_at = local(2026, 12, 1, 15)
    session.commit()

    clock.set(a.feedback_due_at)  # exactly the due time: due today, not yet overdue
    assert not status.is_overdue(a.state, a.feedback_due_at, clock.now())
    assert dict(run_pass(session, clock).notices) == {"due_today": 1}
    session.commit()

    clock.set(a.feedback_due_at + timedelta(seconds=1))  # a second later it is
    assert dict(run_pass(session, clock).notices) == {"overdue": 1}
    session.commit()


@pytest.fixture
def window_of_three(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GONGZHI_REMINDER_DUE_SOON_WORKING_DAYS=3 for the domain's settings."""
    monkeypatch.setenv("GONGZHI_REMINDER_DUE_SOON_WORKING_DAYS", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_due_soon_window_of_three_working_days_is_honoured_by_queue_lists_pages_and_reminders(
    window_of_three: None, db_url: str, engine: Engine, session: Session, clock: FrozenClock, world: World,
    make_case: Any, dispatch: Any, tmp_path: Path,
) -> None:
    settings = Settings(demo=True, database_url=db_url, data_dir=tmp_path / "data", token_ttl_hours=24 * 60,
                        reminder_due_soon_working_days=3)
    app = create_app(settings, engine=engine, clock=clock)
    # Tue 2026-12-01 10:00: due Fri 12-04 17:30 (3rd working day) and Tue 12-08 17:30 (5th).
    soon = dispatch(make_case(shared=("XFXH",)), "XFXH", days=3)
    later = dispatch(make_case(shared=("XFXH",)), "XFXH", days=5)
    liaison = Api(app).as_user(world.liaison("XFXH"))

    queue = liaison.get("/api/v1/queue").json()
    assert queue["counts"]["due_soon"] == 1
    listed = liaison.get("/api/v1/assignments", params={"due_soon": "true"}).json()["items"]
    assert [i["id"] for i in listed] == [soon.id]
    not_soon = liaison.get("/api/v1/assignments", params={"due_soon": "false"}).json()["items"]
    assert [i["id"] for i in not_soon] == [later.id]

    page = browser(app, world.liaison("XFXH")).get("/queue?bucket=due_soon").text
    assert "3 个工作日内到期" in page and "两个工作日内到期" not in page
    assert f'href="/assignments/{soon.id}"' in page and f'href="/assignments/{later.id}"' not in page

    result = run_pass(session, clock, settings)
    assert result.notices["due_soon"] == 1


def test_returned_work_is_open_so_the_case_cannot_close(
    session: Session, clock: FrozenClock, world: World, make_case: Any, dispatch: Any
) -> None:
    case = make_case(shared=("XFXH",))
    a = dispatch(case, "XFXH")
    assignments.return_assignment(session, clock, world.liaison("XFXH"), a.id, a.version,
                                  ReturnIn(reason=ReturnReason.DUPLICATE))
    session.commit()
    assert cases.open_assignment_count(session, case.id) == 1
    with pytest.raises(Conflict) as refused:
        cases.close_case(session, clock, world.coordinator, case.id, case.version, "已处理完毕")
    assert refused.value.key == "case_has_open_assignments"


def test_the_partial_indexes_name_the_active_states() -> None:
    """models.py spells the active states out for its indexes; they must be status's."""
    expected = "state IN ({})".format(", ".join(f"'{s.value}'" for s in status.ACTIVE_STATES))
    table = Assignment.__table__  # type: ignore[attr-defined]
    partial = [i for i in table.indexes if i.dialect_options["postgresql"]["where"] is not None]
    assert {i.name for i in partial} == {"ix_assignment_active_queue", "ix_assignment_active_due",
                                         "ix_assignment_active_assignee"}
    for index in partial:
        for dialect in ("postgresql", "sqlite"):
            assert str(index.dialect_options[dialect]["where"]) == expected
