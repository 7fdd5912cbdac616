"""Races between two real transactions on PostgreSQL (SQLite serialises writers).

Each test runs two use cases in two threads on two connections.  A barrier
on each session's first flush makes both read what they decide on before
either writes; if one is blocked by a lock it never reaches the barrier, the
other's wait times out and it goes on alone — which is the fix working.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared.assignments import service as assignments
from shared.assignments import status
from shared.assignments.models import Assignment
from shared.assignments.schemas import DispatchIn, FeedbackIn
from shared.cases import service as cases
from shared.cases.models import Case, CaseStatus
from shared.clock import Clock
from shared.errors import DomainError
from shared.inspections import service as inspections
from shared.inspections.models import Inspection, InspectionStatus
from shared.inspections.schemas import InspectionCreate
from tests.factories import World

# How long a thread waits at the barrier for the other, which may be blocked on a lock.
BARRIER_TIMEOUT = 3.0


@pytest.fixture
def pg_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): this race cannot happen there")
    return engine


def race(engine: Engine, *work: Callable[[Session], object]) -> list[object]:
    """Run each `work(session)` in its own thread and transaction; both read before either writes."""
    barrier = threading.Barrier(len(work))
    outcomes: list[object] = [None] * len(work)

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as s:
            def wait(*_args: Any) -> None:
                # Broken: the other one is waiting for a lock we hold, so go on alone.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(BARRIER_TIMEOUT)

            event.listen(s, "before_flush", wait, once=True)
            try:
                outcomes[i] = work[i](s)
                s.commit()
            except Exception as exc:  # noqa: BLE001 - a deadlock or any other failure is an outcome to show
                s.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_a_case_never_closes_while_an_assignment_is_being_dispatched(
    pg_engine: Engine, world: World, make_case, clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    case = make_case(shared=("TYJ",))
    coordinator = world.coordinator

    outcomes = race(
        pg_engine,
        lambda s: assignments.dispatch(s, clock, coordinator, case.id,
                                       DispatchIn(department_id=world.dept("TYJ").id, working_days=5)),
        lambda s: cases.close_case(s, clock, coordinator, case.id, case.version, "已处理完毕"),
    )

    with Session(pg_engine) as s:
        closed = s.get(Case, case.id).status == CaseStatus.CLOSED  # type: ignore[union-attr]
        still_open = s.query(Assignment).filter(Assignment.case_id == case.id, status.open_sql()).count()
    assert not (closed and still_open), f"closed with {still_open} open assignment(s): {outcomes}"
    assert not any(isinstance(o, Exception) and not isinstance(o, DomainError) for o in outcomes), outcomes
    # Exactly one of the two won.  The loser is told why: the case is closed (409), or the
    # close was decided on a case the dispatch has since changed (412, read it again).
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 1 and refused[0].status in (409, 412), outcomes


def test_two_last_approvals_at_once_complete_the_joint_inspection(
    pg_engine: Engine, world: World, make_case, clock: Clock, session: Session,  # type: ignore[no-untyped-def]
) -> None:
    case = make_case()
    coordinator = world.coordinator
    inspection = inspections.schedule(session, clock, coordinator, InspectionCreate(
        case_id=case.id, title="预付卡门店联合检查", lead_department_id=world.dept("GAJ").id,
        participant_department_ids=[world.dept("TYJ").id], scheduled_on=date(2026, 12, 3),
        place="鼓楼区中山路门店", working_days=5,
    ))
    session.commit()
    work = list(session.query(Assignment).filter(Assignment.inspection_id == inspection.id).order_by(Assignment.id))
    assert [a.department_id for a in work] == [world.dept("GAJ").id, world.dept("TYJ").id]
    for a in work:
        liaison = world.liaison("GAJ" if a.department_id == world.dept("GAJ").id else "TYJ")
        assignments.accept(session, clock, liaison, a.id, a.version)  # type: ignore[arg-type]
        assignments.submit_feedback(session, clock, liaison, a.id, a.version,  # type: ignore[arg-type]
                                    FeedbackIn(narrative="现场检查完毕，未发现问题"))
        session.commit()

    outcomes = race(
        pg_engine,
        *[(lambda s, a=a: assignments.approve(s, clock, coordinator, a.id, a.version, "同意")) for a in work],
    )

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    with Session(pg_engine) as s:
        done = s.get(Inspection, inspection.id)
        assert done is not None and done.status == InspectionStatus.DONE
