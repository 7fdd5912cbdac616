"""The weekly figures of a hand-built week, every figure asserted against answers worked out by hand.

The week is 2026-W40 (Mon 28 Sep – Sun 4 Oct), the National Day week: Thursday
1 October to Wednesday 7 October are holidays, Friday 25 September is the
Mid-Autumn Festival and Sunday 20 September and Saturday 10 October are
make-up working days (the 2026 schedule).  Everything is built through the
real use cases with a frozen clock, so dispatch and return facts, extensions,
first submissions and callbacks are written exactly as in production.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from shared.actors import SYSTEM
from shared.assignments import service as assignments
from shared.assignments.models import Assignment
from shared.assignments.schemas import DispatchIn, ExtensionIn, FeedbackIn, RedispatchIn, ReturnIn
from shared.callbacks import service as callbacks
from shared.callbacks.schemas import CallbackIn
from shared.cases import service as cases
from shared.cases.models import Case
from shared.cases.schemas import CaseUpdate
from shared.clock import FrozenClock
from shared.errors import Invalid, NotFound
from shared.inspections import service as inspections
from shared.inspections.schemas import InspectionCreate
from shared.reports.figures import check_reportable, report_for, weekly_report, weekly_reports, weekly_rows
from shared.reports.model import Level
from shared.reports.weeks import IsoWeek
from shared.settings import Settings
from tests.factories import World, case_input, credit_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
W40 = IsoWeek(2026, 40)
REPEATED = credit_code("91320100MA1REPEAT")
AFTER = datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI)  # the report is read after the week


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


class Week:
    """The hand-built data, with the ids the assertions name."""

    def __init__(self, session: Session, clock: FrozenClock, world: World) -> None:
        self.session, self.clock, self.w = session, clock, world
        self.ids: dict[str, int] = {}

    def when(self, moment: datetime) -> None:
        self.clock.set(moment)

    def case(self, name: str, moment: datetime, **fields: object) -> Case:
        self.when(moment)
        case = cases.create_case(self.session, self.clock, self.w.coordinator, case_input(self.w, **fields))
        self.session.commit()
        self.ids[name] = case.id  # type: ignore[assignment]
        return case

    def dispatch(self, name: str, case: Case, dept: str, days: int, moment: datetime) -> Assignment:
        self.when(moment)
        a = assignments.dispatch(self.session, self.clock, self.w.coordinator, case.id,  # type: ignore[arg-type]
                                 DispatchIn(department_id=self.w.dept(dept).id, working_days=days,
                                            instructions="核查并反馈", parallel=True))
        self.session.commit()
        self.ids[name] = a.id  # type: ignore[assignment]
        return a

    def accept(self, a: Assignment, dept: str, moment: datetime) -> None:
        self.when(moment)
        assignments.accept(self.session, self.clock, self.w.liaison(dept), a.id, a.version)  # type: ignore[arg-type]
        self.session.commit()

    def submit(self, a: Assignment, dept: str, moment: datetime, **outcomes: object) -> None:
        self.when(moment)
        assignments.submit_feedback(self.session, self.clock, self.w.liaison(dept), a.id, a.version,  # type: ignore[arg-type]
                                    FeedbackIn(narrative="已核查处理。", **outcomes))  # type: ignore[arg-type]
        self.session.commit()

    def approve(self, a: Assignment, moment: datetime) -> None:
        self.when(moment)
        assignments.approve(self.session, self.clock, self.w.coordinator, a.id, a.version, "同意")  # type: ignore[arg-type]
        self.session.commit()

    def give_back(self, a: Assignment, dept: str, reason: str, moment: datetime) -> None:
        self.when(moment)
        assignments.return_assignment(self.session, self.clock, self.w.liaison(dept), a.id, a.version,  # type: ignore[arg-type]
                                      ReturnIn(reason=reason, note="非本部门职责"))  # type: ignore[arg-type]
        self.session.commit()

    def redispatch(self, a: Assignment, dept: str, days: int, moment: datetime, note: str | None = None) -> None:
        self.when(moment)
        assignments.redispatch(self.session, self.clock, self.w.coordinator, a.id, a.version,  # type: ignore[arg-type]
                               RedispatchIn(department_id=self.w.dept(dept).id, working_days=days,
                                            decision_note=note))
        self.session.commit()

    def close(self, case: Case, moment: datetime) -> None:
        self.when(moment)
        fresh = self.session.get(Case, case.id)
        assert fresh is not None
        cases.close_case(self.session, self.clock, self.w.coordinator, case.id, fresh.version, "办结")  # type: ignore[arg-type]
        self.session.commit()

    def callback(self, case: Case, moment: datetime, **answers: object) -> None:
        self.when(moment)
        callbacks.record_callback(self.session, self.clock, self.w.coordinator, case.id,  # type: ignore[arg-type]
                                  CallbackIn(**answers))  # type: ignore[arg-type]
        self.session.commit()


def build_week(session: Session, clock: FrozenClock, world: World) -> Week:
    """W39 sets the stage (previous week); W40 is the week asserted."""
    wk = Week(session, clock, world)
    s, c = session, clock
    coordinator = world.coordinator

    # --- W39 (Mon 21 Sep – Sun 27 Sep; Fri 25 is the Mid-Autumn holiday)
    k1 = wk.case("K1", at(9, 21, 9), shared=("TYJ",), enterprise_credit_code=REPEATED)
    a1 = wk.dispatch("A1", k1, "TYJ", 5, at(9, 21, 10))  # due Tue 29 Sep 17:30 (25 Sep is a holiday)
    wk.accept(a1, "TYJ", at(9, 22, 9))
    k2 = wk.case("K2", at(9, 22, 9), enterprise_credit_code=REPEATED, title="某电商平台虚假宣传")
    a2 = wk.dispatch("A2", k2, "GAJ", 3, at(9, 22, 10))  # due Mon 28 Sep 17:30
    wk.accept(a2, "GAJ", at(9, 22, 11))
    wk.when(at(9, 24, 10))
    ext = assignments.request_extension(s, c, world.liaison("GAJ"), a2.id, a2.version,  # type: ignore[arg-type]
                                        ExtensionIn(extra_working_days=2, reason="需调取交易记录"))
    s.commit()
    wk.when(at(9, 24, 11))
    assignments.decide_extension(s, c, coordinator, a2.id, ext.id, a2.version,  # type: ignore[arg-type]
                                 approve=True, comment="同意")  # → due Wed 30 Sep 17:30
    s.commit()
    k4 = wk.case("K4", at(9, 21, 10, 30), title="某小区周边无证经营", category="无证经营",
                 enterprise_credit_code=None, enterprise_name=None)
    a5 = wk.dispatch("A5", k4, "XFXH", 2, at(9, 21, 11))  # due Wed 23 Sep 17:30, never answered
    wk.accept(a5, "XFXH", at(9, 21, 12))
    wk.when(at(9, 21, 13))
    inspection = inspections.schedule(s, c, coordinator, InspectionCreate(
        case_id=k4.id, title="联合检查无证经营", lead_department_id=world.dept("TYJ").id,  # type: ignore[arg-type]
        scheduled_on=date(2026, 9, 23), working_days=2))
    s.commit()
    wk.ids["I"] = inspection.id  # type: ignore[assignment]
    ai = s.scalars(select(Assignment).where(col(Assignment.inspection_id) == inspection.id)).one()
    wk.ids["AI"] = ai.id  # type: ignore[assignment]
    wk.accept(ai, "TYJ", at(9, 21, 14))
    wk.submit(ai, "TYJ", at(9, 23, 10), enterprises_inspected=3, problems_found=2, rectification_orders=1)

    # --- W40 (Mon 28 Sep – Sun 4 Oct; Thu 1 Oct onwards is the National Day holiday)
    wk.approve(ai, at(9, 28, 10))  # the inspection is done: held this week
    k3 = wk.case("K3", at(9, 28, 9), shared=("WJW",), title="某医美机构违规广告", category="虚假广告",
                 enterprise_credit_code=None)
    a3 = wk.dispatch("A3", k3, "WJW", 1, at(9, 28, 10))  # due Tue 29 Sep 17:30
    wk.accept(a3, "WJW", at(9, 28, 11))
    wk.dispatch("A4", k3, "SWJ", 2, at(9, 28, 10, 30))  # due Wed 30 Sep 17:30, never accepted
    a6 = wk.dispatch("A6", k3, "GAJ", 1, at(9, 28, 10, 45))
    wk.when(at(9, 28, 14))
    assignments.cancel(s, c, coordinator, a6.id, a6.version, "重复派发")  # type: ignore[arg-type]
    s.commit()
    a7 = wk.dispatch("A7", k3, "TYJ", 3, at(9, 28, 11))
    wk.give_back(a7, "TYJ", "not_our_jurisdiction", at(9, 29, 9))
    wk.redispatch(a7, "GAJ", 3, at(9, 29, 10))
    wk.give_back(a7, "GAJ", "wrong_locality", at(9, 29, 15))
    wk.redispatch(a7, "GAJ", 3, at(9, 30, 9))  # acceptance due Thu 8 Oct, feedback due Sat 10 Oct
    wk.give_back(a7, "GAJ", "duplicate", at(9, 30, 10))  # the second return from GAJ: returned twice

    wk.submit(a1, "TYJ", at(9, 29, 16), fines_yuan=Decimal("5000"), losses_recovered_yuan=Decimal("1000"),
              complaints_mediated=2)  # on time
    wk.submit(a2, "GAJ", at(9, 30, 9), fines_yuan=Decimal("20000"), cases_filed=1)  # on time thanks to the extension
    wk.submit(a3, "WJW", at(10, 3, 10))  # late
    wk.approve(a1, at(9, 30, 10))
    wk.approve(a2, at(9, 30, 12))

    wk.close(k1, at(9, 30, 11))
    wk.callback(k1, at(9, 30, 14), reached=True, attempts=1, satisfaction="unsatisfied", resolved=False,
                note="仍未退费")
    wk.when(at(9, 30, 15))
    cases.reopen_case(s, c, coordinator, k1.id, s.get(Case, k1.id).version, "投诉人不满意")  # type: ignore[arg-type,union-attr]
    s.commit()

    wk.close(k2, at(9, 30, 16))
    wk.when(at(9, 30, 16, 30))
    cases.update_case(s, c, coordinator, k2.id, s.get(Case, k2.id).version,  # type: ignore[arg-type,union-attr]
                      CaseUpdate(is_typical=True))
    s.commit()
    wk.callback(k2, at(9, 30, 17), reached=True, attempts=1, satisfaction="basically_satisfied", resolved=True)
    wk.callback(k2, at(10, 2, 10), reached=False, attempts=3, note="无人接听")

    # --- W41: nothing of it may show in W40
    wk.case("K5", at(10, 8, 9), enterprise_credit_code=REPEATED)
    return wk


@pytest.fixture
def week(session: Session, clock: FrozenClock, world: World) -> Week:
    return build_week(session, clock, world)


def _rate(rate) -> tuple[int, int, float | None]:  # type: ignore[no-untyped-def]
    return rate.numerator, rate.denominator, rate.value


def test_every_figure_of_the_national_day_week(session: Session, week: Week, world: World) -> None:
    settings = Settings()
    report = weekly_report(session, W40, None, now=AFTER.astimezone(SHANGHAI), settings=settings)
    assert report.week == "2026-W40" and report.scope == "all" and report.department is None
    assert report.complete is True
    assert report.starts_at == at(9, 28, 0) and report.ends_at == at(10, 5, 0)

    f = report.figures
    assert (f.new_cases, f.closed_cases) == (1, 1)  # K3 created; K2 closed (K1 closed, then reopened)
    assert f.new_cases_by_category == {"虚假广告": 1}
    # Due in the week: A1, A2 (after its extension), A3, A4; A6 was cancelled, A7 moved on with its redispatch.
    assert (f.assignments_due, f.on_time, f.on_time_by_extension) == (4, 2, 1)
    assert _rate(f.on_time_feedback_rate) == (2, 4, 0.5)
    assert f.overdue_open == 2  # A4 (never accepted) and A5 (accepted, never answered)
    # First submissions: A1 5 working days (the holiday on 25 Sep skipped), A2 5, A3 2 (1–3 Oct are holidays).
    assert (f.feedback_latency.count, f.feedback_latency.median_working_days,
            f.feedback_latency.mean_working_days) == (3, 5.0, 4.0)
    assert (f.acceptance_latency.count, f.acceptance_latency.median_working_days,
            f.acceptance_latency.mean_working_days) == (1, 0.0, 0.0)
    # Acceptance due in the week: A3 (accepted in time) and A4 (never); A7's moved to 8 Oct.
    assert (f.acceptance_due, f.accepted_on_time) == (2, 1)
    assert _rate(f.on_time_acceptance_rate) == (1, 2, 0.5)
    r = f.returns
    assert r.returns == 3
    assert r.by_reason == {"not_our_jurisdiction": 1, "wrong_locality": 1, "unclear_ownership": 0,
                           "duplicate": 1, "other": 0}
    assert r.dispatches == 6  # A3, A4, A6, A7 and A7's two redispatches
    assert _rate(r.return_rate) == (3, 6, 0.5)
    assert r.returned_twice == 1
    cb = f.callbacks
    assert (cb.made, cb.reached, cb.satisfied, cb.resolved) == (3, 2, 1, 1)
    assert _rate(cb.satisfaction_rate) == (1, 2, 0.5) and _rate(cb.resolution_rate) == (1, 2, 0.5)
    assert f.inspections_held == 1
    o = f.outcomes
    assert (o.enterprises_inspected, o.problems_found, o.rectification_orders, o.cases_filed,
            o.complaints_mediated) == (3, 2, 1, 1, 2)
    assert (o.fines_yuan, o.losses_recovered_yuan) == (Decimal("25000.00"), Decimal("1000.00"))

    p = report.previous_week
    assert (p.new_cases, p.closed_cases, p.assignments_due, p.on_time, p.overdue_open) == (3, 0, 2, 1, 1)
    assert p.new_cases_by_category == {"预付式消费": 2, "无证经营": 1}  # K1, K2; K4
    assert (p.feedback_latency.count, p.feedback_latency.median_working_days) == (1, 2.0)
    # A1 accepted the next working day (1), A2, A5 and the inspection's the same day (0).
    assert (p.acceptance_latency.count, p.acceptance_latency.mean_working_days) == (4, 0.25)
    assert (p.acceptance_due, p.accepted_on_time, p.returns.dispatches, p.returns.returns) == (4, 4, 4, 0)
    assert (p.callbacks.made, p.inspections_held) == (0, 0)

    assert [point.week for point in report.trend] == [f"2026-W{n}" for n in range(33, 41)]
    assert report.trend[-1].figures == f and report.trend[-2].figures == p
    assert all(point.figures.new_cases == 0 and point.figures.assignments_due == 0 for point in report.trend[:-2])

    # League table: best on-time rate first, nothing due at the end.
    league = [(row.rank, row.department.code, row.level, row.level_reasons) for row in report.league_table]
    assert league == [
        (1, "GAJ", Level.GREEN, []),
        (2, "TYJ", Level.GREEN, []),
        (3, "WJW", Level.RED, ["report.level.below_red"]),
        (4, "SWJ", Level.RED, ["report.level.below_red"]),
        (5, "SCJG", Level.GREEN, []),
        (6, "XFXH", Level.RED, ["report.level.overdue_too_long"]),
    ]
    rows = {row.department.code: row for row in report.league_table}
    assert _rate(rows["GAJ"].figures.on_time_feedback_rate) == (1, 1, 1.0)
    assert rows["GAJ"].figures.on_time_by_extension == 1
    assert rows["GAJ"].figures.returns.by_reason["wrong_locality"] == 1
    assert (rows["GAJ"].figures.returns.dispatches, rows["GAJ"].figures.returns.returned_twice) == (3, 1)
    assert (rows["TYJ"].figures.returns.returns, rows["TYJ"].figures.inspections_held) == (1, 1)
    assert (rows["TYJ"].figures.callbacks.made, rows["TYJ"].figures.callbacks.satisfied) == (1, 0)
    assert (rows["GAJ"].figures.callbacks.made, rows["GAJ"].figures.callbacks.reached) == (2, 1)
    assert rows["XFXH"].max_working_days_overdue == 4  # 24, 28, 29, 30 Sep; 1–4 Oct are holidays
    assert rows["SWJ"].max_working_days_overdue == 0  # due 30 Sep, and the rest of the week is holiday
    assert _rate(rows["TYJ"].previous_on_time_feedback_rate) == (1, 1, 1.0)
    assert _rate(rows["XFXH"].previous_on_time_feedback_rate) == (0, 1, 0.0)
    assert rows["SCJG"].figures.new_cases == 1 and rows["SCJG"].figures.closed_cases == 1
    assert rows["SCJG"].figures.new_cases_by_category == {"虚假广告": 1}
    assert rows["GAJ"].figures.new_cases_by_category == {}

    assert [(i.assignment_id, i.department.code, i.working_days_overdue, i.state) for i in report.overdue_list] == [
        (week.ids["A5"], "XFXH", 4, "accepted"), (week.ids["A4"], "SWJ", 0, "dispatched")]
    assert report.overdue_list[0].assignee_name == world.liaison("XFXH").name
    assert report.overdue_list[1].assignee_name is None and report.overdue_list[1].case_title == "某医美机构违规广告"

    assert [(rc.credit_code, [c.id for c in rc.cases]) for rc in report.repeat_complaints] == [
        (REPEATED, [week.ids["K1"], week.ids["K2"]])]
    assert [c.id for c in report.highlights.typical_cases_closed] == [week.ids["K2"]]
    assert [(h.case.id, h.department.code, h.fines_yuan, h.losses_recovered_yuan)
            for h in report.highlights.largest_outcomes] == [
        (week.ids["K2"], "GAJ", Decimal("20000.00"), Decimal("0.00")),
        (week.ids["K1"], "TYJ", Decimal("5000.00"), Decimal("1000.00"))]

    floors = report.floors
    assert (floors.red_below, floors.yellow_below, floors.red_overdue_working_days) == (0.8, 0.9, 3)
    softer = Settings(report_red_below=0.0, report_yellow_below=0.5, report_red_overdue_working_days=5)
    levels = {row.department.code: (row.level, row.level_reasons) for row in weekly_report(
        session, W40, None, now=AFTER, settings=softer).league_table}
    assert levels["WJW"] == (Level.YELLOW, ["report.level.below_yellow"])
    assert levels["XFXH"] == (Level.GREEN, [])


def test_a_department_section_covers_only_its_own_work(session: Session, week: Week, world: World) -> None:
    swj = world.dept("SWJ").id
    report = report_for(session, world.head("SWJ"), W40, now=AFTER, settings=Settings())
    assert report.scope == "SWJ" and report.department is not None and report.department.id == swj
    f = report.figures
    assert (f.assignments_due, f.on_time, f.overdue_open, f.returns.dispatches, f.acceptance_due) == (1, 0, 1, 1, 1)
    assert [i.assignment_id for i in report.overdue_list] == [week.ids["A4"]]
    # Cases it neither leads nor shares are not named.
    assert report.repeat_complaints == [] and report.highlights.typical_cases_closed == []
    assert report.highlights.largest_outcomes == []
    assert len(report.league_table) == 6  # the full table, aggregates only

    gaj = report_for(session, world.leader, W40, now=AFTER, settings=Settings(), department_id=world.dept("GAJ").id)
    assert gaj.scope == "GAJ" and [h.case.id for h in gaj.highlights.largest_outcomes] == [week.ids["K2"]]
    assert [rc.credit_code for rc in gaj.repeat_complaints] == []  # K2 only: one case is no repeat

    scjg = report_for(session, SYSTEM, W40, now=AFTER, settings=Settings(), department_id=world.dept("SCJG").id)
    assert [len(rc.cases) for rc in scjg.repeat_complaints] == [2]

    for outsider in (world.liaison("SWJ"), world.liaison("GAJ")):
        with pytest.raises(NotFound):
            report_for(session, outsider, W40, now=AFTER, settings=Settings())
    with pytest.raises(NotFound):
        report_for(session, world.head("SWJ"), W40, now=AFTER, settings=Settings(), department_id=world.dept("GAJ").id)


def test_the_rows_behind_the_figures(session: Session, week: Week, world: World) -> None:
    rows = weekly_rows(session, W40, None, now=AFTER, settings=Settings())
    due = {r.assignment_id: (r.department.code, r.on_time, r.on_time_by_extension) for r in rows.assignments_due}
    assert due == {week.ids["A1"]: ("TYJ", True, False), week.ids["A2"]: ("GAJ", True, True),
                   week.ids["A3"]: ("WJW", False, False), week.ids["A4"]: ("SWJ", False, False)}
    assert [o.assignment_id for o in rows.overdue] == [week.ids["A5"], week.ids["A4"]]
    assert [(c.department.code, c.reached, c.satisfaction, c.resolved) for c in rows.callbacks] == [
        ("TYJ", True, "unsatisfied", False), ("GAJ", True, "basically_satisfied", True), ("GAJ", False, None, None)]
    gaj = weekly_rows(session, W40, world.dept("GAJ").id, now=AFTER, settings=Settings())
    assert [r.assignment_id for r in gaj.assignments_due] == [week.ids["A2"]] and gaj.overdue == []
    assert [c.reached for c in gaj.callbacks] == [True, False]


def test_the_weekly_job_builds_every_section_as_it_would_be_built_alone(session: Session, week: Week,
                                                                          world: World) -> None:
    # The job fetches each list once for all departments and hands each section its share.
    sections = list(weekly_reports(session, W40, now=AFTER, settings=Settings()))
    assert [report.scope for report, _rows in sections][0] == "all" and len(sections) == len(world.departments) + 1
    for report, rows in sections:
        department_id = None if report.department is None else report.department.id
        assert report == weekly_report(session, W40, department_id, now=AFTER, settings=Settings())
        assert rows == weekly_rows(session, W40, department_id, now=AFTER, settings=Settings())
    by_scope = {report.scope: report for report, _rows in sections}
    assert by_scope["all"].overdue_list and by_scope["all"].repeat_complaints
    assert by_scope["all"].highlights.largest_outcomes and by_scope["SCJG"].repeat_complaints


def test_the_week_so_far_counts_up_to_now(session: Session, week: Week) -> None:
    now = at(9, 29, 12)  # Tuesday noon of W40: A1 and A3 (due Tuesday 17:30) are not yet judged
    report = weekly_report(session, W40, None, now=now, settings=Settings())
    assert report.complete is False and report.generated_at == now
    assert report.figures.assignments_due == 0
    assert report.figures.new_cases == 1 and report.figures.returns.returns == 1


def test_a_future_week_and_a_week_before_the_first_case_are_refused(session: Session, week: Week) -> None:
    settings = Settings()
    with pytest.raises(Invalid) as future:
        check_reportable(session, IsoWeek(2026, 43), now=AFTER, settings=settings)
    assert future.value.field == "iso_week" and future.value.key == "report_week_in_future"
    assert future.value.params == {"week": "2026-W43", "first": "2026-W39", "last": "2026-W42"}
    with pytest.raises(Invalid) as early:
        check_reportable(session, IsoWeek(2026, 38), now=AFTER, settings=settings)
    assert early.value.key == "report_week_before_first_case"
    for allowed in (IsoWeek(2026, 39), IsoWeek(2026, 42)):
        check_reportable(session, allowed, now=AFTER, settings=settings)
