"""Dispatch as the hotlines do it (主办 and 协办 in one step), its due-date preview, and 交办 to a 承办人.

The use cases are shared/assignments/plan.py; these routes parse, call, commit and shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from services.api.deps import ClockDep, CurrentUser, IdPath, IfMatch, SessionDep, etag
from services.api.idempotency import Idempotent, IdempotentRoute
from services.api.routes import api_router
from shared.assignments import plan, queries
from shared.assignments.schemas import AssigneeIn, AssignmentPublic, DispatchPlanIn, DispatchPlanOut, DuePreview

router = api_router(tags=["assignments"], route_class=IdempotentRoute)


@router.post("/cases/{case_id}/dispatch-plan", response_model=DispatchPlanOut, status_code=201,
             dependencies=[Idempotent])
def dispatch_plan(case_id: IdPath, body: DispatchPlanIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
                  response: Response) -> DispatchPlanOut:
    """派发方案: one lead department (主办) and any assisting ones (协办), each its own assignment.

    All or nothing: when one of the departments already holds open work on the case
    (and `parallel` is not set) the answer is 409 naming that assignment and nothing
    is dispatched.  Requirements (`instructions`) are required.
    """
    made = plan.dispatch_plan(session, clock, user, case_id, body)
    session.commit()
    now = clock.now()
    return DispatchPlanOut(case_id=case_id, items=[queries.get_public(session, a, now, user) for a in made])


@router.get("/cases/{case_id}/dispatch-preview", response_model=DuePreview)
def dispatch_preview(
    case_id: IdPath, session: SessionDep, clock: ClockDep, user: CurrentUser,
    working_days: Annotated[int | None, Query(ge=1, le=120, description="办理时限（工作日）；缺省按案件来源")] = None,
) -> DuePreview:
    """The acceptance and feedback due times a dispatch made now would get; `provisional` when the
    calendar of a year they count is not official yet."""
    return plan.preview(session, clock, user, case_id, working_days)


@router.post("/assignments/{assignment_id}/assignee", response_model=AssignmentPublic)
def hand_over(assignment_id: IdPath, body: AssigneeIn, session: SessionDep, clock: ClockDep, user: CurrentUser,
              version: IfMatch, response: Response) -> AssignmentPublic:
    """交办: a liaison or head hands accepted work to a colleague of the department (承办人)."""
    a = plan.hand_over(session, clock, user, assignment_id, version, body.assignee_id)
    session.commit()
    response.headers["ETag"] = etag(a.version)
    return queries.get_public(session, a, clock.now(), user)
