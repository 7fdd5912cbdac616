"""The campaign summary (活动总结): one campaign's figures, counted in SQL.

A campaign's work is every case with its `campaign_id` and every assignment of
those cases or of the campaign's inspections (an inspection may join a
campaign its case does not belong to).  Counts are GROUP BY queries over that
set; Python holds only per-department rows (a few dozen) and the capped lists
the draft prints (overdue, returned, repeat complaints, typical cases).

Definitions, as of the moment the summary is drafted (`generated_at`):

- feedback due (应反馈): assignments, not cancelled, whose result is known —
  feedback submitted, or overdue (`status.overdue_sql`).  Work neither
  submitted nor yet due is still in time and counts for no one.
- on time (按时反馈) and on time by extension: `status.on_time_sql` and
  `status.on_time_by_extension_sql`; late feedback: submitted, not on time.
- overdue open (超期未反馈): `status.overdue_sql(generated_at)`, with working
  days overdue counted in SQL as the weekly report counts them
  (`shared/reports/facts.py`, `workdays_sql`).
- returns (退单): the `assignment_return` rows of the campaign's assignments,
  by reason and by the returning department; 退单率 = returns / dispatches
  (rows of `assignment_dispatch`, redispatches included), as in the weekly
  figures; an item returned twice is an assignment with a second or later
  return by one department, counted once per assignment and department — the
  weekly report's rule (`facts.returned_twice_pairs`).
- callbacks (回访) on the campaign's cases: reached, satisfied + basically
  satisfied / reached (满意率), resolved / reached (解决率) (`facts.callback_flags`).
- outcomes: sums over approved feedback (办结) of the campaign's assignments.
- repeat complaints: one enterprise credit code in two or more of the campaign's cases.

A department's level (red, yellow, green) is `shared/reports/levels.level_for`
over its on-time rate and its longest overdue item — the weekly report's rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, distinct, exists, func, not_, or_, select, union
from sqlalchemy.sql.selectable import Subquery
from sqlmodel import Session, col

from shared.actors import Actor
from shared.assignments import status
from shared.assignments.models import Assignment, AssignmentDispatch, AssignmentState, ReturnReason
from shared.callbacks.models import Callback
from shared.campaigns.models import Campaign
from shared.cases.models import Case, CaseShare, CaseSource, CaseStatus
from shared.clock import Clock
from shared.departments.models import Department
from shared.errors import Forbidden, NotFound
from shared.feedback.models import Feedback, ReviewDecision
from shared.inspections.models import Inspection, InspectionParticipant, InspectionStatus
from shared.reports import facts
from shared.reports.facts import DSP, RET
from shared.reports.levels import floors, level_for
from shared.reports.model import (
    CaseRef,
    DepartmentRef,
    Floors,
    Level,
    Outcomes,
    OverdueItem,
    Rate,
    RepeatComplaint,
)
from shared.settings import Settings, get_settings
from shared.users.models import Role, User

# Who may read the summary: it spans every department of the campaign.
SUMMARY_READERS = frozenset({Role.COORDINATOR, Role.LEADER, Role.ADMIN})

# The lists the draft prints in full are capped; their totals are always counted.
OVERDUE_CAP = 20
RETURNED_CAP = 20
TYPICAL_CAP = 10
REPEAT_CAP = 20
CASES_PER_ENTERPRISE_CAP = 10
CATEGORY_CAP = 10

A = Assignment
A_C = Assignment.__table__.c  # type: ignore[attr-defined]
DSP_TABLE = AssignmentDispatch.__table__  # type: ignore[attr-defined]


class CampaignRef(BaseModel):
    id: int
    name: str
    description: str
    starts_on: date
    ends_on: date
    lead_department: DepartmentRef | None


class Count(BaseModel):
    key: str
    count: int


class CaseFigures(BaseModel):
    total: int
    closed: int
    open: int
    typical: int
    # CaseSource value -> cases; every source present, zeros included.
    by_source: dict[str, int]
    # The largest categories first, at most CATEGORY_CAP; `other_categories` counts the rest.
    by_category: list[Count]
    other_categories: int


class InspectionFigures(BaseModel):
    total: int
    held: int  # done
    planned: int
    cancelled: int
    # Distinct departments taking part in inspections not cancelled.
    departments: int


class FeedbackFigures(BaseModel):
    assignments: int  # dispatched to departments, not cancelled
    due: int  # feedback submitted, or overdue
    on_time: int
    on_time_by_extension: int
    late: int  # submitted, not on time
    overdue_open: int
    on_time_feedback_rate: Rate


class ReturnFigures(BaseModel):
    returns: int
    # ReturnReason value -> returns; every reason present, zeros included.
    by_reason: dict[str, int]
    returned_items: int  # assignments returned at least once
    returned_twice: int  # second or later return by one department, once per assignment and department
    dispatches: int  # dispatches and redispatches (cancelled work included)
    return_rate: Rate  # returns / dispatches


class CallbackFigures(BaseModel):
    made: int
    reached: int
    satisfied: int  # satisfied + basically satisfied
    unsatisfied: int
    resolved: int
    unresolved: int
    satisfaction_rate: Rate
    resolution_rate: Rate


class DepartmentRow(BaseModel):
    department: DepartmentRef
    cases_led: int
    assignments: int
    due: int
    on_time: int
    late: int
    overdue_open: int
    max_working_days_overdue: int
    returns_made: int
    on_time_feedback_rate: Rate
    level: Level
    level_reasons: list[str]


class ReturnedItem(BaseModel):
    """退单: an assignment of the campaign returned at least once."""

    assignment_id: int
    case_id: int
    case_reference: str
    case_title: str
    department: DepartmentRef  # where it is now
    state: str
    returns: int
    # The departments that returned it, in the order of their first return.
    returned_by: list[DepartmentRef]
    last_reason: str | None


class TypicalCase(BaseModel):
    case: CaseRef
    category: str
    status: str
    enterprise_name: str | None
    outcomes: Outcomes


class CampaignSummary(BaseModel):
    campaign: CampaignRef
    generated_at: datetime
    # False while the campaign's last day has not passed (local time).
    ended: bool
    floors: Floors
    departments: list[DepartmentRow]  # every department involved, best on-time rate first
    cases: CaseFigures
    inspections: InspectionFigures
    feedback: FeedbackFigures
    returns: ReturnFigures
    callbacks: CallbackFigures
    outcomes: Outcomes
    overdue_list: list[OverdueItem]  # most overdue first, at most OVERDUE_CAP
    returned_list: list[ReturnedItem]  # most returned first, at most RETURNED_CAP
    repeat_complaints: list[RepeatComplaint]  # most cases first, at most REPEAT_CAP
    repeat_complaint_total: int
    typical_cases: list[TypicalCase]  # at most TYPICAL_CAP
    typical_total: int

    @property
    def below_floor(self) -> list[DepartmentRow]:
        """Departments the floors mark red or yellow: red first, then the lowest rate, the longest overdue."""
        order = {Level.RED: 0, Level.YELLOW: 1}
        rows = [r for r in self.departments if r.level != Level.GREEN]
        return sorted(rows, key=lambda r: (order[r.level], r.on_time_feedback_rate.value or 0.0,
                                           -r.max_working_days_overdue, r.department.code))


# ------------------------------------------------------------------ who may read


def _is_department_role(actor: Actor) -> bool:
    return actor.role in (Role.LIAISON, Role.HEAD)


def _involves(session: Session, campaign: Campaign, department_id: int) -> bool:
    """The department leads the campaign, leads or shares one of its cases, or joins one of its inspections."""
    if campaign.lead_department_id == department_id:
        return True
    share = select(col(CaseShare.case_id)).join(Case, col(Case.id) == col(CaseShare.case_id)).where(
        col(Case.campaign_id) == campaign.id, col(CaseShare.department_id) == department_id)
    lead = select(col(Case.id)).where(col(Case.campaign_id) == campaign.id,
                                      col(Case.lead_department_id) == department_id)
    inspected = select(col(InspectionParticipant.inspection_id)).join(
        Inspection, col(Inspection.id) == col(InspectionParticipant.inspection_id)).where(
        col(Inspection.campaign_id) == campaign.id, col(InspectionParticipant.department_id) == department_id)
    return bool(session.scalar(select(or_(exists(lead), exists(share), exists(inspected)))))


def campaign_for_read(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """The campaign, if the actor may see it: coordinators, leaders and admins all; a department
    only a campaign it takes part in.  Anything else is NotFound (404), never Forbidden."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    if actor.role in SUMMARY_READERS:
        return campaign
    if _is_department_role(actor) and isinstance(actor, User) and _involves(session, campaign, actor.department_id):
        return campaign
    raise NotFound()


def may_read_summary(actor: Actor) -> bool:
    return actor.role in SUMMARY_READERS


def summary(session: Session, clock: Clock, actor: Actor, campaign_id: int,
            settings: Settings | None = None) -> CampaignSummary:
    """活动总结: the campaign's figures, for coordinators, leaders and admins.

    A department that takes part in the campaign is refused (403); to anyone
    else the campaign does not exist (404).
    """
    campaign = campaign_for_read(session, actor, campaign_id)
    if not may_read_summary(actor):
        raise Forbidden()
    return figures(session, clock.now(), campaign, settings or get_settings())


# ------------------------------------------------------------------ the figures


def _campaign_assignments(campaign_id: int) -> Subquery:
    """Ids of the campaign's assignments: of its cases, and of its inspections."""
    by_case: Select[Any] = select(col(A.id).label("id")).join(Case, col(Case.id) == col(A.case_id)).where(
        col(Case.campaign_id) == campaign_id)
    by_inspection: Select[Any] = select(col(A.id).label("id")).join(
        Inspection, col(Inspection.id) == col(A.inspection_id)).where(col(Inspection.campaign_id) == campaign_id)
    return union(by_case, by_inspection).subquery("campaign_assignment")


def _feedback_columns(now: datetime) -> list[Any]:
    overdue = status.overdue_sql(now)
    decided = or_(col(A.first_submitted_at).is_not(None), overdue)
    late = and_(col(A.first_submitted_at).is_not(None), not_(status.on_time_sql()))
    return [
        func.count().label("assignments"),
        facts.count_if(decided).label("due"),
        facts.count_if(status.on_time_sql()).label("on_time"),
        facts.count_if(status.on_time_by_extension_sql()).label("on_time_by_extension"),
        facts.count_if(late).label("late"),
        facts.count_if(overdue).label("overdue_open"),
    ]


def _feedback_query(ids: Subquery, now: datetime) -> Select[Any]:
    return (select(*_feedback_columns(now)).select_from(A).join(ids, ids.c.id == col(A.id))
            .where(col(A.state) != AssignmentState.CANCELLED))


def _department_refs(session: Session, ids: set[int] | None) -> dict[int, DepartmentRef]:
    """The departments named by `ids` (None: all of them — a few dozen rows of reference data)."""
    if ids is not None and not ids:
        return {}
    stmt = select(col(Department.id), col(Department.code), col(Department.name))
    if ids is not None:
        stmt = stmt.where(col(Department.id).in_(sorted(ids)))
    rows = session.execute(stmt)
    return {r.id: DepartmentRef(id=r.id, code=r.code, name=r.name) for r in rows}


def _returns_query(ids: Subquery) -> Select[Any]:
    """The returns (`assignment_return`) of the campaign's assignments, with the returning department."""
    return (select(RET.assignment_id.label("assignment_id"), RET.id.label("return_id"),
                   RET.returned_at.label("returned_at"), RET.reason.label("reason"),
                   RET.department_id.label("department_id"), RET.return_number.label("return_number"))
            .join(ids, ids.c.id == RET.assignment_id))


def figures(session: Session, now: datetime, campaign: Campaign, settings: Settings) -> CampaignSummary:
    """Every figure of the summary, as of `now` (no authorization: see `summary`)."""
    assert campaign.id is not None
    cid = campaign.id
    limits = floors(settings)
    ids = _campaign_assignments(cid)
    cases = _case_figures(session, cid)
    inspections = _inspection_figures(session, cid)

    overall = session.execute(_feedback_query(ids, now)).one()
    feedback = FeedbackFigures(
        assignments=overall.assignments, due=overall.due, on_time=overall.on_time,
        on_time_by_extension=overall.on_time_by_extension, late=overall.late, overdue_open=overall.overdue_open,
        on_time_feedback_rate=Rate.of(overall.on_time, overall.due))

    returns_rows = _returns_query(ids).subquery("returns")
    by_reason = dict.fromkeys((r.value for r in ReturnReason), 0)
    for reason, n in session.execute(select(returns_rows.c.reason, func.count()).group_by(returns_rows.c.reason)):
        by_reason[str(reason)] += n
    per_item = (select(returns_rows.c.assignment_id, func.count().label("n"))
                .group_by(returns_rows.c.assignment_id).subquery("per_item"))
    returned_items = session.scalar(select(func.count()).select_from(per_item)) or 0
    in_campaign = RET.assignment_id.in_(select(ids.c.id))
    twice = session.scalar(select(func.count()).select_from(facts.returned_twice_pairs(in_campaign).subquery())) or 0
    dispatches = session.scalar(select(func.count()).select_from(DSP_TABLE).join(
        ids, ids.c.id == DSP.assignment_id)) or 0
    total_returns = sum(by_reason.values())
    returns = ReturnFigures(returns=total_returns, by_reason=by_reason, returned_items=returned_items,
                            returned_twice=twice, dispatches=dispatches,
                            return_rate=Rate.of(total_returns, dispatches))

    callbacks = _callback_figures(session, cid)
    outcomes = _outcomes(session, select(col(Feedback.id)).join(ids, ids.c.id == col(Feedback.assignment_id)))

    wd = facts.working_days(session, settings, now, now)
    mine = A_C.id.in_(select(ids.c.id))
    longest = {d: days for d, (_n, days) in facts.overdue_by_department(session, wd, now, settings, mine).items()}
    # Per department: feedback, cases led and returns made, each one GROUP BY.
    per_dept: dict[int, dict[str, Any]] = {}
    for row in session.execute(_feedback_query(ids, now).add_columns(col(A.department_id))
                               .group_by(col(A.department_id))):
        per_dept.setdefault(row.department_id, {})["feedback"] = row
    for dept_id, n in session.execute(select(col(Case.lead_department_id), func.count())
                                      .where(col(Case.campaign_id) == cid).group_by(col(Case.lead_department_id))):
        per_dept.setdefault(dept_id, {})["cases_led"] = n
    for dept_id, n in session.execute(select(returns_rows.c.department_id, func.count())
                                      .group_by(returns_rows.c.department_id)):
        if dept_id is not None:
            per_dept.setdefault(dept_id, {})["returns_made"] = n
    participants = select(col(InspectionParticipant.department_id)).distinct().join(
        Inspection, col(Inspection.id) == col(InspectionParticipant.inspection_id)).where(
        col(Inspection.campaign_id) == cid, col(Inspection.status) != InspectionStatus.CANCELLED)
    for dept_id in session.scalars(participants):
        per_dept.setdefault(dept_id, {})
    if campaign.lead_department_id is not None:
        per_dept.setdefault(campaign.lead_department_id, {})

    refs = _department_refs(session, set(per_dept))
    departments: list[DepartmentRow] = []
    for dept_id, parts in per_dept.items():
        if dept_id not in refs:
            continue
        fb = parts.get("feedback")
        max_days = longest.get(dept_id, 0)
        rate = Rate.of(fb.on_time if fb else 0, fb.due if fb else 0)
        level, reasons = level_for(rate, max_days, limits)
        departments.append(DepartmentRow(
            department=refs[dept_id], cases_led=parts.get("cases_led", 0),
            assignments=fb.assignments if fb else 0, due=fb.due if fb else 0, on_time=fb.on_time if fb else 0,
            late=fb.late if fb else 0, overdue_open=fb.overdue_open if fb else 0, max_working_days_overdue=max_days,
            returns_made=parts.get("returns_made", 0), on_time_feedback_rate=rate, level=level,
            level_reasons=reasons))
    departments.sort(key=lambda r: (r.on_time_feedback_rate.value is None, -(r.on_time_feedback_rate.value or 0),
                                    r.overdue_open, r.department.code))

    lead = _department_refs(session, {campaign.lead_department_id}) if campaign.lead_department_id else {}
    local_today = now.astimezone(settings.tz).date()
    repeat, repeat_total = _repeat_complaints(session, cid)
    typical, typical_total = _typical_cases(session, cid)
    return CampaignSummary(
        campaign=CampaignRef(id=cid, name=campaign.name, description=campaign.description,
                             starts_on=campaign.starts_on, ends_on=campaign.ends_on,
                             lead_department=lead.get(campaign.lead_department_id or 0)),
        generated_at=now, ended=local_today > campaign.ends_on, floors=limits, departments=departments,
        cases=cases, inspections=inspections, feedback=feedback, returns=returns, callbacks=callbacks,
        outcomes=outcomes,
        overdue_list=facts.overdue_items(session, wd, now, settings, _department_refs(session, None), [mine],
                                         OVERDUE_CAP),
        returned_list=_returned_list(session, returns_rows, per_item),
        repeat_complaints=repeat, repeat_complaint_total=repeat_total,
        typical_cases=typical, typical_total=typical_total,
    )


def _case_figures(session: Session, cid: int) -> CaseFigures:
    in_campaign = col(Case.campaign_id) == cid
    total, closed, typical = session.execute(select(
        func.count(), facts.count_if(col(Case.status) == CaseStatus.CLOSED),
        facts.count_if(col(Case.is_typical).is_(True)),
    ).where(in_campaign)).one()
    by_source = dict.fromkeys((s.value for s in CaseSource), 0)
    for source, n in session.execute(select(col(Case.source), func.count()).where(in_campaign)
                                     .group_by(col(Case.source))):
        by_source[CaseSource(source).value] = n
    categories = [Count(key=c, count=n) for c, n in session.execute(
        select(col(Case.category), func.count().label("n")).where(in_campaign).group_by(col(Case.category))
        .order_by(func.count().desc(), col(Case.category)).limit(CATEGORY_CAP))]
    return CaseFigures(total=total, closed=int(closed), open=total - int(closed), typical=int(typical),
                       by_source=by_source, by_category=categories,
                       other_categories=total - sum(c.count for c in categories))


def _inspection_figures(session: Session, cid: int) -> InspectionFigures:
    counts = dict.fromkeys((s.value for s in InspectionStatus), 0)
    for state, n in session.execute(select(col(Inspection.status), func.count())
                                    .where(col(Inspection.campaign_id) == cid).group_by(col(Inspection.status))):
        counts[InspectionStatus(state).value] = n
    departments = session.scalar(
        select(func.count(distinct(col(InspectionParticipant.department_id))))
        .join(Inspection, col(Inspection.id) == col(InspectionParticipant.inspection_id))
        .where(col(Inspection.campaign_id) == cid, col(Inspection.status) != InspectionStatus.CANCELLED)) or 0
    return InspectionFigures(total=sum(counts.values()), held=counts[InspectionStatus.DONE.value],
                             planned=counts[InspectionStatus.PLANNED.value],
                             cancelled=counts[InspectionStatus.CANCELLED.value], departments=departments)


def _callback_figures(session: Session, cid: int) -> CallbackFigures:
    flags = facts.callback_flags()
    row = session.execute(
        select(func.count(), *[func.coalesce(func.sum(flags[name]), 0)
                               for name in ("reached", "satisfied", "unsatisfied", "resolved", "unresolved")])
        .select_from(Callback).join(Case, col(Case.id) == col(Callback.case_id)).where(col(Case.campaign_id) == cid)
    ).one()
    made, n_reached, satisfied, unsatisfied, resolved, unresolved = (int(x) for x in row)
    return CallbackFigures(made=made, reached=n_reached, satisfied=satisfied, unsatisfied=unsatisfied,
                           resolved=resolved, unresolved=unresolved,
                           satisfaction_rate=Rate.of(satisfied, n_reached),
                           resolution_rate=Rate.of(resolved, n_reached))


def _outcomes(session: Session, feedback_ids: Select[Any]) -> Outcomes:
    """Sums over the approved feedback among `feedback_ids`."""
    row = session.execute(select(*facts.outcome_sums()).where(
        col(Feedback.id).in_(feedback_ids), col(Feedback.review_decision) == ReviewDecision.APPROVED)).one()
    return facts.to_outcomes(row._mapping)


def _returned_list(session: Session, returns_rows: Subquery, per_item: Subquery) -> list[ReturnedItem]:
    top = session.execute(select(per_item.c.assignment_id, per_item.c.n)
                          .order_by(per_item.c.n.desc(), per_item.c.assignment_id).limit(RETURNED_CAP)).all()
    if not top:
        return []
    wanted = [r.assignment_id for r in top]
    details = {r.id: r for r in session.execute(
        select(col(A.id), col(A.case_id), col(A.state), col(A.department_id), col(A.return_reason),
               col(Case.reference), col(Case.title))
        .join(Case, col(Case.id) == col(A.case_id)).where(col(A.id).in_(wanted)))}
    # Who returned each of these (a few rows per item), first return first.
    by_whom = session.execute(
        select(returns_rows.c.assignment_id, returns_rows.c.department_id, returns_rows.c.reason)
        .where(returns_rows.c.assignment_id.in_(wanted))
        .order_by(returns_rows.c.returned_at, returns_rows.c.return_id)).all()
    refs = _department_refs(session, {d.department_id for d in details.values()}
                            | {r.department_id for r in by_whom if r.department_id is not None})
    returners: dict[int, list[int]] = {}
    last_reason: dict[int, str | None] = {}
    for r in by_whom:
        seen = returners.setdefault(r.assignment_id, [])
        if r.department_id is not None and r.department_id not in seen:
            seen.append(r.department_id)
        last_reason[r.assignment_id] = str(r.reason)
    items: list[ReturnedItem] = []
    for assignment_id, n in top:
        d = details[assignment_id]
        items.append(ReturnedItem(
            assignment_id=assignment_id, case_id=d.case_id, case_reference=d.reference, case_title=d.title,
            department=refs[d.department_id], state=str(d.state), returns=n,
            returned_by=[refs[x] for x in returners.get(assignment_id, []) if x in refs],
            last_reason=last_reason.get(assignment_id)))
    return items


def _case_ref(row: Any, refs: dict[int, DepartmentRef]) -> CaseRef:
    return CaseRef(id=row.id, reference=row.reference, title=row.title, created_at=row.created_at,
                   lead_department=refs.get(row.lead_department_id))


def _repeat_complaints(session: Session, cid: int) -> tuple[list[RepeatComplaint], int]:
    return facts.repeat_complaints(session, [col(Case.campaign_id) == cid], _department_refs(session, None),
                                   listed=REPEAT_CAP, cases_each=CASES_PER_ENTERPRISE_CAP)


def _typical_cases(session: Session, cid: int) -> tuple[list[TypicalCase], int]:
    where = (col(Case.campaign_id) == cid, col(Case.is_typical).is_(True))
    total = session.scalar(select(func.count()).where(*where)) or 0
    rows = session.execute(
        select(col(Case.id), col(Case.reference), col(Case.title), col(Case.created_at), col(Case.lead_department_id),
               col(Case.category), col(Case.status), col(Case.enterprise_name))
        .where(*where).order_by(col(Case.closed_at).is_(None), col(Case.created_at), col(Case.id))
        .limit(TYPICAL_CAP)).all()
    if not rows:
        return [], total
    sums = {r.case_id: facts.to_outcomes(r._mapping) for r in session.execute(
        select(col(A.case_id), *facts.outcome_sums()).join(A, col(A.id) == col(Feedback.assignment_id))
        .where(col(A.case_id).in_([r.id for r in rows]), col(Feedback.review_decision) == ReviewDecision.APPROVED)
        .group_by(col(A.case_id)))}
    refs = _department_refs(session, {r.lead_department_id for r in rows})
    return [TypicalCase(case=_case_ref(r, refs), category=r.category, status=str(r.status),
                        enterprise_name=r.enterprise_name, outcomes=sums.get(r.id, Outcomes())) for r in rows], total
