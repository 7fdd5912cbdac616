"""The one view of a case that leaves the server: API answers, pages and emails all get this.

``case_public`` is the only place a ``Case`` row becomes something a template or
a JSON encoder sees.  The complainant is already masked in it for anyone but
the lead department and coordinators, and the raw ``complainant_*`` columns are
not in it at all, so no template or serializer mistake can show them.  An
unmasked read is written to the audit log (shared/audit), not to the timeline.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from shared.assignments.status import AssignmentState, is_open
from shared.audit import service as audit
from shared.cases import masking
from shared.cases.models import Case
from shared.cases.schemas import CasePublic, CaseSummary
from shared.cases.service import PII_FIELDS, open_assignment_count
from shared.clock import Clock
from shared.scope import sees_personal_data, shared_department_ids
from shared.users.models import User


def case_public(session: Session, clock: Clock, actor: User, case: Case, *,
                all_states: Iterable[AssignmentState | str] | None = None) -> CasePublic:
    """ALL_STATES: the states of every one of the case's assignments, when the caller has listed
    them all (the case page): its open ones are counted from them rather than read again."""
    in_full = sees_personal_data(actor, case)
    recorded = [name for name in PII_FIELDS if getattr(case, name)]
    if in_full and recorded:
        audit.record(session, clock, actor, audit.PERSONAL_DATA_READ, case_id=case.id,
                     detail={"reference": case.reference, "fields": recorded})
    summary = CaseSummary.model_validate(case, from_attributes=True)
    return CasePublic(
        **summary.model_dump(),
        description=case.description,
        complainant=masking.complainant(case, in_full=in_full),
        shared_with=shared_department_ids(session, case.id),  # type: ignore[arg-type]
        open_assignments=(open_assignment_count(session, case.id) if all_states is None  # type: ignore[arg-type]
                          else sum(1 for state in all_states if is_open(state))),
    )
