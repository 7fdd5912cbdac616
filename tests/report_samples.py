"""Weekly reports built by hand, with known figures, for the renderers' tests (no database).

Week 2026-W48 (Monday 23 to Sunday 29 November 2026, Asia/Shanghai): eight
departments with a red, yellow and green league (one with nothing due), overdue
items with and without a named 承办人, repeat complaints, highlights and an
8-week trend.  Levels come from the one rule (`shared/reports/levels.py`), so a
sample cannot disagree with what the figures would say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shared.reports.levels import level_for
from shared.reports.model import (
    CallbackRow,
    Callbacks,
    CaseRef,
    DepartmentRef,
    DueRow,
    Figures,
    Floors,
    Highlights,
    Latency,
    LeagueRow,
    OutcomeHighlight,
    Outcomes,
    OverdueItem,
    Rate,
    RepeatComplaint,
    ReportRows,
    Returns,
    WeeklyReport,
    WeekPoint,
)
from shared.reports.weeks import IsoWeek

TZ = ZoneInfo("Asia/Shanghai")
FLOORS = Floors(red_below=0.80, yellow_below=0.90, red_overdue_working_days=3)
WEEK = IsoWeek.parse("2026-W48")

DEPARTMENTS = {
    code: DepartmentRef(id=n, code=code, name=name)
    for n, (code, name) in enumerate((
        ("SCJG", "市场监督管理局"), ("XFXH", "消费者协会"), ("GAJ", "公安局"), ("WJW", "卫生健康委员会"),
        ("SWJ", "商务局"), ("TYJ", "体育局"), ("CGJ", "城市管理综合执法局"), ("WLJ", "文化广电旅游局"),
    ), start=1)
}
REASONS = ("not_our_jurisdiction", "wrong_locality", "unclear_ownership", "duplicate", "other")


def local(day: int, hour: int = 17, minute: int = 30, month: int = 11) -> datetime:
    """A local time in 2026, as the UTC instant the database would hold."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def figures(*, new: int = 0, closed: int = 0, due: int = 0, on_time: int = 0, by_extension: int = 0,
            overdue: int = 0, acceptance_due: int = 0, accepted_on_time: int = 0, returns: int = 0,
            dispatches: int = 0, returned_twice: int = 0, callbacks: tuple[int, int, int, int] = (0, 0, 0, 0),
            inspections: int = 0, fines: str = "0", recovered: str = "0", cases_filed: int = 0,
            latency: tuple[float, float] | None = None, categories: dict[str, int] | None = None) -> Figures:
    made, reached, satisfied, resolved = callbacks
    by_reason = dict.fromkeys(REASONS, 0)
    for n in range(returns):
        by_reason[REASONS[n % 2]] += 1
    median, mean = latency or (None, None)
    return Figures(
        new_cases=new, closed_cases=closed, assignments_due=due, on_time=on_time,
        on_time_by_extension=by_extension, on_time_feedback_rate=Rate.of(on_time, due), overdue_open=overdue,
        feedback_latency=Latency(count=on_time, median_working_days=median, mean_working_days=mean),
        acceptance_latency=Latency(count=acceptance_due, median_working_days=0.5 if acceptance_due else None,
                                   mean_working_days=0.6 if acceptance_due else None),
        acceptance_due=acceptance_due, accepted_on_time=accepted_on_time,
        on_time_acceptance_rate=Rate.of(accepted_on_time, acceptance_due),
        returns=Returns(returns=returns, by_reason=by_reason, dispatches=dispatches,
                        return_rate=Rate.of(returns, dispatches), returned_twice=returned_twice),
        callbacks=Callbacks(made=made, reached=reached, satisfied=satisfied, resolved=resolved,
                            satisfaction_rate=Rate.of(satisfied, reached), resolution_rate=Rate.of(resolved, reached)),
        inspections_held=inspections,
        outcomes=Outcomes(enterprises_inspected=inspections, problems_found=inspections // 2,
                          rectification_orders=inspections // 3, cases_filed=cases_filed, fines_yuan=Decimal(fines),
                          complaints_mediated=on_time // 2, losses_recovered_yuan=Decimal(recovered)),
        new_cases_by_category=categories or {},
    )


# code: (this week's figures, last week's on-time (on_time, due), longest overdue in working days)
_DEPARTMENT_WEEK: dict[str, tuple[Figures, tuple[int, int], int]] = {
    "SCJG": (figures(new=14, closed=9, due=16, on_time=10, by_extension=2, overdue=4, acceptance_due=18,
                     accepted_on_time=15, returns=3, dispatches=20, returned_twice=1, callbacks=(9, 8, 5, 4),
                     inspections=12, fines="85000", recovered="12000", cases_filed=2, latency=(4.0, 4.6)),
             (13, 16), 7),
    "XFXH": (figures(new=6, closed=5, due=9, on_time=8, overdue=1, acceptance_due=9, accepted_on_time=9,
                     returns=1, dispatches=9, callbacks=(6, 6, 6, 5), recovered="36000", latency=(3.0, 3.2)),
             (7, 8), 2),
    "GAJ": (figures(new=2, closed=2, due=5, on_time=5, acceptance_due=5, accepted_on_time=5, dispatches=5,
                    inspections=3, cases_filed=1, latency=(2.0, 2.4)),
            (4, 4), 0),
    "WJW": (figures(new=3, closed=1, due=7, on_time=6, by_extension=1, overdue=1, acceptance_due=7,
                    accepted_on_time=6, dispatches=7, callbacks=(2, 2, 1, 1), inspections=4, fines="3000",
                    latency=(3.5, 3.9)),
            (6, 6), 1),
    "SWJ": (figures(new=1, closed=0, due=4, on_time=2, overdue=2, acceptance_due=4, accepted_on_time=3,
                    returns=2, dispatches=5, returned_twice=1, latency=(6.0, 6.5)),
            (3, 4), 4),
    "TYJ": (figures(new=0, closed=0, due=0, on_time=0, overdue=0, dispatches=1), (2, 2), 0),
    "CGJ": (figures(new=5, closed=3, due=11, on_time=10, overdue=0, acceptance_due=11, accepted_on_time=10,
                    dispatches=11, callbacks=(3, 3, 3, 3), inspections=6, fines="2000", latency=(3.0, 3.1)),
            (9, 10), 0),
    "WLJ": (figures(new=2, closed=1, due=3, on_time=2, overdue=1, acceptance_due=3, accepted_on_time=3,
                    dispatches=3, callbacks=(1, 0, 0, 0), latency=(4.0, 4.0)),
            (3, 3), 2),
}


def _total(parts: list[Figures], categories: dict[str, int]) -> Figures:
    """The overall figures: every count summed over the departments (the samples share no case)."""
    def s(getter: object) -> int:
        return sum(getter(f) for f in parts)  # type: ignore[operator, misc]

    return figures(
        new=s(lambda f: f.new_cases), closed=s(lambda f: f.closed_cases), due=s(lambda f: f.assignments_due),
        on_time=s(lambda f: f.on_time), by_extension=s(lambda f: f.on_time_by_extension),
        overdue=s(lambda f: f.overdue_open), acceptance_due=s(lambda f: f.acceptance_due),
        accepted_on_time=s(lambda f: f.accepted_on_time), returns=s(lambda f: f.returns.returns),
        dispatches=s(lambda f: f.returns.dispatches), returned_twice=s(lambda f: f.returns.returned_twice),
        callbacks=(s(lambda f: f.callbacks.made), s(lambda f: f.callbacks.reached),
                   s(lambda f: f.callbacks.satisfied), s(lambda f: f.callbacks.resolved)),
        inspections=s(lambda f: f.inspections_held),
        fines=str(sum(f.outcomes.fines_yuan for f in parts)),
        recovered=str(sum(f.outcomes.losses_recovered_yuan for f in parts)),
        cases_filed=s(lambda f: f.outcomes.cases_filed), latency=(3.5, 4.1), categories=categories,
    )


def league() -> list[LeagueRow]:
    rows = []
    for code, (f, (prev_on_time, prev_due), longest) in _DEPARTMENT_WEEK.items():
        level, reasons = level_for(f.on_time_feedback_rate, longest, FLOORS)
        rows.append(LeagueRow(rank=0, department=DEPARTMENTS[code], figures=f,
                              previous_on_time_feedback_rate=Rate.of(prev_on_time, prev_due),
                              max_working_days_overdue=longest, level=level, level_reasons=reasons))
    # Best rate first; nothing due goes last.
    rows.sort(key=lambda r: (r.figures.on_time_feedback_rate.value is None,
                             -(r.figures.on_time_feedback_rate.value or 0), r.department.code))
    return [r.model_copy(update={"rank": n}) for n, r in enumerate(rows, start=1)]


OVERALL = _total([f for f, _p, _l in _DEPARTMENT_WEEK.values()],
                 {"预付式消费": 9, "食品安全": 7, "价格收费": 5, "虚假宣传": 4, "产品质量": 3, "其他": 5})
PREVIOUS = figures(new=29, closed=24, due=53, on_time=47, by_extension=2, overdue=6, acceptance_due=50,
                   accepted_on_time=46, returns=4, dispatches=55, returned_twice=0, callbacks=(20, 19, 17, 15),
                   inspections=22, fines="64000", recovered="21000", cases_filed=2, latency=(3.0, 3.6),
                   categories={"预付式消费": 4, "食品安全": 8, "价格收费": 6, "虚假宣传": 4, "产品质量": 3, "其他": 4})


def _trend(current: Figures, previous: Figures) -> list[WeekPoint]:
    earlier = [(26, 48, 43, 3), (31, 52, 49, 2), (24, 45, 40, 5), (35, 60, 51, 8), (27, 49, 45, 4), (22, 41, 37, 3)]
    points = [WeekPoint(week=str(WEEK.shifted(n - 7)), figures=figures(new=new, due=due, on_time=on_time,
                                                                          overdue=overdue, callbacks=(10, 9, 8, 7)))
              for n, (new, due, on_time, overdue) in enumerate(earlier)]
    return [*points, WeekPoint(week=str(WEEK.previous()), figures=previous), WeekPoint(week=str(WEEK), figures=current)]


def case(n: int, title: str, day: int, lead: str | None = "SCJG") -> CaseRef:
    return CaseRef(id=1000 + n, reference=f"GZ-2026-{n:06d}", title=title, created_at=local(day, 9, 15),
                   lead_department=DEPARTMENTS[lead] if lead else None)


def overdue_list() -> list[OverdueItem]:
    items = [
        (1, "SCJG", "鼓楼区美容美发会员卡卷款跑路", "王建国", 7, 17),
        (2, "SCJG", "某连锁超市销售过期乳制品", None, 5, 19),
        (3, "SWJ", "预付卡商户闭店后拒不退款", "李娜", 4, 20),
        (4, "SWJ", "商场促销先涨价后打折", None, 2, 25),
        (5, "SCJG", "网约家政服务收费不透明", "赵敏", 2, 25),
        (6, "XFXH", "健身房转让后会员权益无人承接", "陈晓", 2, 25),
        (7, "WLJ", "旅行社“零元游”强制购物", None, 2, 25),
        (8, "SCJG", "电动自行车头盔质量不合格", "王建国", 1, 26),
        (9, "WJW", "口腔诊所收费项目未公示", "刘洋", 1, 26),
    ]
    return [
        OverdueItem(assignment_id=500 + n, case_id=1000 + n, case_reference=f"GZ-2026-{n:06d}", case_title=title,
                    department=DEPARTMENTS[code], assignee_name=who, state="accepted" if who else "dispatched",
                    feedback_due_at=local(due_day), working_days_overdue=days)
        for n, code, title, who, days, due_day in items
    ]


def repeat_complaints() -> list[RepeatComplaint]:
    return [
        RepeatComplaint(credit_code="91350102MA2XYZ1234", enterprise_name="福州市鼓楼区悦美美容美发有限公司", cases=[
            case(1, "鼓楼区美容美发会员卡卷款跑路", 3), case(21, "美发店办卡后频繁更换技师", 12),
            case(22, "美容项目诱导消费", 24)]),
        RepeatComplaint(credit_code="91350100MA31ABCD5K", enterprise_name="福建动力健身管理有限公司", cases=[
            case(6, "健身房转让后会员权益无人承接", 10, "XFXH"), case(23, "私教课程退费难", 26, "XFXH")]),
    ]


def highlights() -> Highlights:
    return Highlights(
        typical_cases_closed=[case(31, "联合查处无证经营医美机构", 2, "WJW"), case(32, "春节前食品安全联合检查", 5)],
        largest_outcomes=[
            OutcomeHighlight(case=case(33, "批发市场销售假冒白酒", 6), department=DEPARTMENTS["SCJG"],
                             feedback_id=901, fines_yuan=Decimal("80000"), losses_recovered_yuan=Decimal("0"),
                             cases_filed=1),
            OutcomeHighlight(case=case(34, "教培机构停课退费纠纷", 9, "XFXH"), department=DEPARTMENTS["XFXH"],
                             feedback_id=902, fines_yuan=Decimal("0"), losses_recovered_yuan=Decimal("36000"),
                             cases_filed=0),
        ],
    )


def weekly_report() -> WeeklyReport:
    """Scope `all`: what leaders read."""
    return WeeklyReport(
        week=str(WEEK), scope="all", department=None, starts_at=WEEK.starts_at(TZ), ends_at=WEEK.ends_at(TZ),
        generated_at=local(30, 8, 0), complete=True, floors=FLOORS, figures=OVERALL, previous_week=PREVIOUS,
        trend=_trend(OVERALL, PREVIOUS), league_table=league(), overdue_list=overdue_list(),
        repeat_complaints=repeat_complaints(), highlights=highlights(),
    )


def head_report(code: str = "SCJG") -> WeeklyReport:
    """A head's section: its department's figures and items, plus the whole league table."""
    full = weekly_report()
    dept = DEPARTMENTS[code]
    own, (prev_on_time, prev_due), _longest = _DEPARTMENT_WEEK[code]
    previous = figures(due=prev_due, on_time=prev_on_time, new=12, overdue=3, callbacks=(8, 8, 6, 5))
    return full.model_copy(update={
        "scope": code, "department": dept, "figures": own, "previous_week": previous,
        "trend": _trend(own, previous),
        "overdue_list": [i for i in full.overdue_list if i.department.code == code],
        "repeat_complaints": [r for r in full.repeat_complaints
                              if any(c.lead_department and c.lead_department.code == code for c in r.cases)],
        "highlights": Highlights(
            typical_cases_closed=[c for c in full.highlights.typical_cases_closed
                                  if c.lead_department and c.lead_department.code == code],
            largest_outcomes=[o for o in full.highlights.largest_outcomes if o.department.code == code]),
    })


def quiet_report() -> WeeklyReport:
    """The National Day week (2026-W40): nothing due anywhere, so every rate is None; nothing overdue."""
    week = IsoWeek.parse("2026-W40")
    empty = figures(new=3)
    rows = [LeagueRow(rank=n, department=d, figures=figures(), previous_on_time_feedback_rate=Rate.of(0, 0),
                      max_working_days_overdue=0, level=level_for(Rate.of(0, 0), 0, FLOORS)[0])
            for n, d in enumerate(DEPARTMENTS.values(), start=1)]
    return WeeklyReport(
        week=str(week), scope="all", starts_at=week.starts_at(TZ), ends_at=week.ends_at(TZ),
        generated_at=local(12, 8, 0, month=10), complete=True, floors=FLOORS, figures=empty,
        previous_week=figures(new=20, due=30, on_time=28, callbacks=(5, 5, 4, 4)),
        trend=[WeekPoint(week=str(w), figures=empty) for w in week.last(8)], league_table=rows, overdue_list=[],
        repeat_complaints=[], highlights=Highlights(typical_cases_closed=[], largest_outcomes=[]),
    )


def report_rows() -> ReportRows:
    """The rows behind `weekly_report()`: the XLSX's sheets."""
    due: list[DueRow] = []
    n = 0
    for code, (f, _prev, _longest) in _DEPARTMENT_WEEK.items():
        for k in range(f.assignments_due):
            n += 1
            late = k >= f.on_time
            by_extension = not late and k < f.on_time_by_extension
            original = local(23 + k % 5, 17, 30)
            in_force = original + timedelta(days=2) if by_extension else original
            submitted = None if late and k % 2 else (in_force + (timedelta(hours=20) if late else -timedelta(hours=3)))
            due.append(DueRow(
                assignment_id=2000 + n, case_reference=f"GZ-2026-{100 + n:06d}", case_title=f"投诉处理事项{n}号",
                department=DEPARTMENTS[code], state="done" if submitted else "accepted",
                dispatched_at=original - timedelta(days=7), original_feedback_due_at=original,
                feedback_due_at=in_force, first_submitted_at=submitted, on_time=not late,
                on_time_by_extension=by_extension))
    callbacks = [
        CallbackRow(callback_id=3001, case_reference="GZ-2026-000041", department=DEPARTMENTS["SCJG"],
                    made_at=local(24, 10, 5), reached=True, attempts=1, satisfaction="satisfied", resolved=True,
                    note="投诉人表示已退款"),
        CallbackRow(callback_id=3002, case_reference="GZ-2026-000042", department=DEPARTMENTS["SCJG"],
                    made_at=local(25, 15, 40), reached=True, attempts=2, satisfaction="unsatisfied", resolved=False,
                    note="商家仍未退还预付款，投诉人要求重办"),
        CallbackRow(callback_id=3003, case_reference="GZ-2026-000043", department=DEPARTMENTS["WLJ"],
                    made_at=local(27, 9, 0), reached=False, attempts=3, satisfaction=None, resolved=None,
                    note="三次未接通"),
    ]
    return ReportRows(assignments_due=due, overdue=overdue_list(), callbacks=callbacks)
