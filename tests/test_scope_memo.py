"""What shared.scope remembers for one transaction: a case's shares, read once, never stale."""

from __future__ import annotations

from sqlmodel import select

from shared import scope
from shared.cases import service as cases
from shared.cases.models import CaseShare
from shared.errors import NotFound
from tests.test_queue_cache import statements


def _share_reads(seen: list[str]) -> int:
    return sum(1 for s in seen if "FROM case_share" in s)


def test_a_cases_shares_are_read_once_per_transaction_and_follow_its_own_changes(
        session, engine, world, make_case, clock) -> None:  # type: ignore[no-untyped-def]
    case = make_case(lead="SCJG", shared=("XFXH",))
    xfxh, tyj = world.dept("XFXH").id, world.dept("TYJ").id
    with statements(engine) as seen:
        assert scope.shared_department_ids(session, case.id) == [xfxh]
        assert scope.shared_department_ids(session, case.id) == [xfxh]
    assert _share_reads(seen) == 1, seen

    # Added in this transaction and not yet flushed: the next read has it.
    cases.ensure_shared(session, clock, world.coordinator, case, [tyj])
    assert scope.shared_department_ids(session, case.id) == sorted([xfxh, tyj])
    # Removed in this transaction: gone at the next read.
    session.delete(session.exec(select(CaseShare).where(CaseShare.case_id == case.id,
                                                        CaseShare.department_id == xfxh)).one())
    assert scope.shared_department_ids(session, case.id) == [tyj]
    session.rollback()

    # Another transaction reads again: the rollback undid both.
    with statements(engine) as seen:
        assert scope.shared_department_ids(session, case.id) == [xfxh]
    assert _share_reads(seen) == 1, seen


def test_a_kept_read_statement_answers_only_for_the_reader_it_was_built_for(
        session, world, make_case) -> None:  # type: ignore[no-untyped-def]
    """case_for_read's statement is built once per reach and kept: as an attacker in another department,
    or a user moved between departments, the answer must still be theirs alone."""
    case = make_case(lead="SCJG", shared=("XFXH",))
    scjg, xfxh, tyj = world.liaison("SCJG"), world.liaison("XFXH"), world.liaison("TYJ")

    def reads(user) -> bool:  # type: ignore[no-untyped-def]
        session.rollback()  # a new transaction: nothing remembered from the last read
        try:
            scope.case_for_read(session, user, case.id)
            return True
        except NotFound:
            return False

    for _ in range(2):  # the second round runs on the statements the first one kept
        assert reads(scjg) and reads(xfxh) and not reads(tyj)
        assert reads(world.coordinator) and reads(world.leader)
    # Moved into the lead department, then out to one the case is not shared with.
    tyj.department_id = world.dept("SCJG").id
    session.commit()
    assert reads(tyj)
    tyj.department_id = world.dept("TYJ").id
    session.commit()
    assert not reads(tyj)
    # Another role of the same departments: kept apart from the liaisons' by nothing but the department.
    assert reads(world.head("SCJG")) and not reads(world.head("TYJ"))
