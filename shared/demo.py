"""Demo data for `make run`: a city's departments, people of every role and ~40 cases.

The cases are made by the real services with a clock set in the past, so the
data has the same shape (events, deadlines, feedback) as real use.  Loading is
idempotent, and refused outside demo mode: demo passwords must never exist in
production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import Session, col

from shared.actors import SYSTEM
from shared.assignments import service as assignments
from shared.assignments.models import ReturnReason
from shared.assignments.schemas import DispatchIn, ExtensionIn, FeedbackIn, ReturnIn
from shared.calendar.rules import WorkingCalendar
from shared.calendar.service import seed_from_package, working_calendar
from shared.callbacks import service as callbacks
from shared.callbacks.models import Satisfaction
from shared.callbacks.schemas import CallbackIn
from shared.callbacks.service import COMPLAINT_SOURCES
from shared.campaigns import service as campaigns
from shared.campaigns.service import CampaignIn
from shared.cases import service as cases
from shared.cases.credit_code import with_check_character
from shared.cases.models import Case, CaseSource, Priority
from shared.cases.schemas import CaseCreate
from shared.clock import Clock, FrozenClock
from shared.departments.models import Department, DepartmentKind
from shared.errors import DomainError
from shared.inspections import service as inspections
from shared.inspections.schemas import InspectionCreate
from shared.outbox.models import OutboxMessage, OutboxState
from shared.reminders.models import ReminderNotice
from shared.reports import delivery
from shared.reports.schedule import send_moment
from shared.reports.weeks import IsoWeek
from shared.settings import Settings, get_settings
from shared.users.models import Role, User
from shared.users.service import create_user

DEMO_PASSWORD = "gongzhi2026"
CAMPAIGN = "守护安全消费，提振消费信心"

# Their heads sign feedback off (审签) before the coordinator sees it, so the demo shows both ways.
SIGNOFF_DEPARTMENTS = frozenset({"WJW"})
DEPARTMENTS = [
    ("SCJG", "市市场监督管理局", DepartmentKind.MARKET_REGULATION),
    ("XFXH", "市消费者协会", DepartmentKind.CONSUMER_ASSOCIATION),
    ("GAJ", "市公安局", DepartmentKind.PUBLIC_SECURITY),
    ("WJW", "市卫生健康委员会", DepartmentKind.HEALTH),
    ("SWJ", "市商务局", DepartmentKind.COMMERCE),
    ("WLJ", "市文化和旅游局", DepartmentKind.CULTURE_TOURISM),
    ("JYJ", "市教育局", DepartmentKind.EDUCATION),
    ("TYJ", "市体育局", DepartmentKind.SPORTS),
    ("ZJJ", "市住房和城乡建设局", DepartmentKind.HOUSING),
]

# (username, name, department, role)
PEOPLE = [
    ("admin", "系统管理员", "SCJG", Role.ADMIN),
    ("coordinator", "王建国", "SCJG", Role.COORDINATOR),
    ("leader", "刘志强", "SCJG", Role.LEADER),
    ("head_scjg", "陈立新", "SCJG", Role.HEAD),
    ("liaison_scjg", "周晓梅", "SCJG", Role.LIAISON),
    ("head_xfxh", "孙丽华", "XFXH", Role.HEAD),
    ("liaison_xfxh", "李娜", "XFXH", Role.LIAISON),
    ("head_gaj", "赵刚", "GAJ", Role.HEAD),
    ("liaison_gaj", "马超", "GAJ", Role.LIAISON),
    ("head_wjw", "吴敏", "WJW", Role.HEAD),
    ("liaison_wjw", "郑洁", "WJW", Role.LIAISON),
    ("head_swj", "黄海", "SWJ", Role.HEAD),
    ("liaison_swj", "何静", "SWJ", Role.LIAISON),
    ("head_wlj", "林峰", "WLJ", Role.HEAD),
    ("liaison_wlj", "徐丹", "WLJ", Role.LIAISON),
    ("head_jyj", "高洁", "JYJ", Role.HEAD),
    ("liaison_jyj", "罗斌", "JYJ", Role.LIAISON),
    ("head_tyj", "梁勇", "TYJ", Role.HEAD),
    ("liaison_tyj", "宋佳", "TYJ", Role.LIAISON),
    ("head_zjj", "谢磊", "ZJJ", Role.HEAD),
    ("liaison_zjj", "韩雪", "ZJJ", Role.LIAISON),
]

DEMO_LOGINS = [(u, DEMO_PASSWORD, role.value, dept) for u, _n, dept, role in PEOPLE]

TOPICS = [
    ("预付式消费", "健身房预付卡停业无法退费", "TYJ", "健身管理有限公司"),
    ("预付式消费", "美容美发会员卡卷款跑路", "SWJ", "美容美发有限公司"),
    ("预付式消费", "校外培训机构预收费退费纠纷", "JYJ", "教育咨询有限公司"),
    ("食品安全", "餐饮门店使用过期食材", "WJW", "餐饮管理有限公司"),
    ("旅游消费", "一日游强制购物", "WLJ", "国际旅行社有限公司"),
    ("房屋装修", "家装公司偷工减料拒不整改", "ZJJ", "装饰工程有限公司"),
    ("网络消费", "直播带货虚假宣传", "GAJ", "电子商务有限公司"),
    ("医疗美容", "无证医美机构违规注射", "WJW", "医疗美容诊所有限公司"),
]
SURNAMES = "张王李赵陈刘杨黄周吴徐孙马朱胡郭何高林罗"
DISTRICTS = ["鼓楼区", "玄武区", "秦淮区", "建邺区", "雨花台区", "栖霞区", "江宁区"]


@dataclass
class DemoSummary:
    created: bool
    departments: int = 0
    users: int = 0
    cases: int = 0
    assignments: int = 0
    summaries: int = 0


def _credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "320100" + "".join(rng.choice(alphabet) for _ in range(9))
    return with_check_character(body)


# Office hours (上午 9:00–12:00, 下午 13:30–17:30): every demo act happens inside them.
_MORNING = (time(9, 0), time(12, 0))
_AFTERNOON = (time(13, 30), time(17, 30))


def _working_moment(session: Session, day: date, hour: int, tz_name: str) -> datetime:
    calendar = working_calendar(session)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(hour, 15), ZoneInfo(tz_name)).astimezone(ZoneInfo("UTC"))


def in_office_hours(calendar: WorkingCalendar, moment: datetime, tz: ZoneInfo) -> datetime:
    """MOMENT if it falls in office hours on a working day, else the next office-hours moment."""
    local = moment.astimezone(tz)
    day, at = local.date(), local.time()
    while True:
        if calendar.is_working_day(day):
            for start, end in (_MORNING, _AFTERNOON):
                if at < start:
                    return datetime.combine(day, start, tz).astimezone(UTC)
                if at < end:
                    return datetime.combine(day, at, tz).astimezone(UTC)
        day, at = day + timedelta(days=1), time(0)


def load_demo(session: Session, clock: Clock) -> DemoSummary:
    settings = get_settings()
    if not settings.demo:
        raise RuntimeError("demo data is only loaded in demo mode (GONGZHI_DEMO=1)")
    if session.scalar(select(col(Department.id)).where(col(Department.code) == "SCJG")) is not None:
        return DemoSummary(created=False)
    now = clock.now()
    seed_from_package(session, clock)
    departments: dict[str, Department] = {}
    for code, name, kind in DEPARTMENTS:
        d = Department(code=code, name=name, kind=kind, email=f"{code.lower()}@gongzhi.local", created_at=now,
                       signoff_required=code in SIGNOFF_DEPARTMENTS)
        session.add(d)
        session.flush()
        departments[code] = d
    users: dict[str, User] = {}
    for username, name, dept, role in PEOPLE:
        users[username] = create_user(
            session, clock, SYSTEM, username=username, name=name, email=f"{username}@gongzhi.local",
            department_id=departments[dept].id, role=role, password=DEMO_PASSWORD,  # type: ignore[arg-type]
        )
    coordinator = users["coordinator"]
    rng = random.Random(20261128)
    today = now.astimezone(settings.tz).date()
    history = FrozenClock(_working_moment(session, today - timedelta(days=58), 9, settings.timezone))
    campaign = campaigns.create(session, history, coordinator, CampaignIn(
        name=CAMPAIGN, description="2026 年消费维权专项行动：聚焦预付式消费、食品安全、医疗美容。",
        starts_on=today - timedelta(days=60), ends_on=today + timedelta(days=60),
        lead_department_id=departments["SCJG"].id,
    ))
    n_assignments = 0
    for i in range(40):
        category, title, owner, enterprise = TOPICS[i % len(TOPICS)]
        district = rng.choice(DISTRICTS)
        opened = _working_moment(session, today - timedelta(days=rng.randint(1, 55)),
                                 rng.choice([9, 10, 11, 14, 15, 16]), settings.timezone)
        if opened > now:
            opened = now - timedelta(hours=1)
        c = FrozenClock(opened)
        partners = [code for code in rng.sample(list(departments), 3) if code != "SCJG"]
        case = cases.create_case(session, c, coordinator, CaseCreate(
            title=f"{district}{title}",
            description=f"12315 平台及热线收到关于{district}某{enterprise}的集中投诉，涉及{category}。",
            source=rng.choice(list(CaseSource)),
            category=category,
            region=district,
            priority=rng.choice([Priority.NORMAL, Priority.NORMAL, Priority.HIGH, Priority.URGENT]),
            enterprise_name=f"{district[:2]}某某{enterprise}",
            enterprise_credit_code=_credit_code(rng),
            complainant_name=rng.choice(SURNAMES) + rng.choice("伟芳娜敏静丽强磊军洋"),
            complainant_phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
            lead_department_id=departments["SCJG"].id,
            shared_with=[departments[p].id for p in partners],
            campaign_id=campaign.id if rng.random() < 0.6 else None,
        ))
        targets = list(dict.fromkeys([owner, *partners[:rng.randint(0, 2)]]))
        for code in targets:
            _play(session, c, now, rng, users, case.id, departments[code].id, code)  # type: ignore[arg-type]
            n_assignments += 1
        calendar = working_calendar(session)
        if i % 9 == 4 and (at := in_office_hours(calendar, c.now() + timedelta(hours=2), settings.tz)) < now:
            c.set(at)
            inspections.schedule(session, c, coordinator, InspectionCreate(
                case_id=case.id, title=f"{district}{category}联合检查",  # type: ignore[arg-type]
                lead_department_id=departments["SCJG"].id,
                participant_department_ids=[departments["GAJ"].id, departments[owner].id],
                scheduled_on=(c.now() + timedelta(days=3)).astimezone(settings.tz).date(),
                place=f"{district}商业街", targets=f"{district}{category}经营主体", working_days=5,
            ))
            n_assignments += 2
        if (i % 7 == 0 and cases.open_assignment_count(session, case.id) == 0  # type: ignore[arg-type]
                and (at := in_office_hours(calendar, c.now() + timedelta(hours=3), settings.tz)) < now):
            c.set(at)
            case = cases.close_case(session, c, coordinator, case.id, case.version, "各部门均已反馈，办结")  # type: ignore[arg-type]
            if i % 14 == 0:
                from shared.cases.schemas import CaseUpdate

                cases.update_case(session, c, coordinator, case.id, case.version, CaseUpdate(is_typical=True))  # type: ignore[arg-type]
    summaries = _last_weeks_summary(session, now, settings)
    # The history above would otherwise mail weeks-old notices on first start.
    session.execute(
        update(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING)  # type: ignore[arg-type]
        .values(state=OutboxState.DISCARDED, last_error="demo history")
    )
    session.execute(
        update(ReminderNotice).where(col(ReminderNotice.digest_key).is_(None)).values(digest_key="demo-history")
    )
    session.flush()
    return DemoSummary(created=True, departments=len(departments), users=len(users), cases=40,
                       assignments=n_assignments, summaries=summaries)


def _last_weeks_summary(session: Session, now: datetime, settings: Settings) -> int:
    """Last week's summary (往期周报), delivered at the moment the beat would have and shown as sent then.

    One week only: rendering a week's artefacts for every department costs the first start
    about two seconds.  Loaded on a Monday before the send time, the week is left to the
    beat, which sends it for real.  Its emails count as sent at that moment, like the rest
    of the history's acts; none reaches the mail catcher (the history mails nothing old).
    Answers how many summaries were delivered (0 or 1)."""
    calendar = working_calendar(session, settings)
    week = IsoWeek.containing(now, calendar.tz).shifted(-1)
    moment = send_moment(week, calendar, settings.report_send_at)
    if moment > now:
        return 0
    try:
        delivery.deliver_week(session, week, now=moment, settings=settings)
    except DomainError:  # a week before the first case: nothing to report
        return 0
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.kind) == delivery.KIND,
                                    col(OutboxMessage.state) == OutboxState.PENDING)
        .values(state=OutboxState.SENT, attempts=1, sent_at=moment)
    )
    return 1


def _play(session: Session, c: FrozenClock, now: datetime, rng: random.Random, users: dict[str, User],
          case_id: int, department_id: int, code: str) -> None:
    """Dispatch one assignment and move it along a plausible path, never past `now`."""
    coordinator = users["coordinator"]
    liaison, head = users[f"liaison_{code.lower()}"], users[f"head_{code.lower()}"]

    calendar, tz = working_calendar(session), get_settings().tz

    def later(hours: float) -> bool:
        # People act in office hours: the next act comes after HOURS, in the next office hours.
        target = in_office_hours(calendar, c.now() + timedelta(hours=hours), tz)
        if target >= now:
            return False
        c.set(target)
        return True

    a = assignments.dispatch(session, c, coordinator, case_id, DispatchIn(
        department_id=department_id, working_days=rng.choice([5, 7, 10]),
        instructions="请核查涉事经营主体资质与经营行为，依法处置并反馈结果。",
    ))
    fate = rng.random()
    if now - c.now() > timedelta(days=21) and rng.random() < 0.85:
        fate = rng.uniform(0.6, 1.0)  # most older work has been fed back by now; a few stay long overdue
    if fate < 0.12 or not later(rng.uniform(2, 20)):
        return  # still waiting to be accepted (some will be overdue)
    if fate < 0.2:
        assignments.return_assignment(session, c, liaison, a.id, a.version,  # type: ignore[arg-type]
                                      ReturnIn(reason=ReturnReason.NOT_OUR_JURISDICTION, note="不属于本部门职责"))
        return
    a = assignments.accept(session, c, liaison, a.id, a.version)  # type: ignore[arg-type]
    if fate < 0.3:
        if later(rng.uniform(10, 40)):
            ext = assignments.request_extension(session, c, liaison, a.id, a.version,  # type: ignore[arg-type]
                                                ExtensionIn(extra_working_days=3, reason="需等待检测报告"))
            if fate < 0.25 and later(4):
                assignments.decide_extension(session, c, head, a.id, ext.id, a.version,  # type: ignore[arg-type]
                                             approve=True, comment="同意延期")
        return
    if fate < 0.45 or not later(rng.uniform(24, 24 * 9)):
        return  # in progress (some overdue)
    assignments.submit_feedback(session, c, liaison, a.id, a.version, FeedbackIn(  # type: ignore[arg-type]
        narrative="已对涉事主体开展现场检查，责令限期整改，并约谈负责人。",
        enterprises_inspected=rng.randint(1, 6), problems_found=rng.randint(0, 4),
        rectification_orders=rng.randint(0, 3), cases_filed=rng.randint(0, 2),
        fines_yuan=Decimal(rng.choice([0, 0, 5000, 20000, 50000])),
        complaints_mediated=rng.randint(0, 15),
        losses_recovered_yuan=Decimal(rng.randint(0, 80000)),
    ))
    if code in SIGNOFF_DEPARTMENTS:
        if fate < 0.6 or not later(4):
            return  # awaiting the head's sign-off
        a = assignments.sign_off(session, c, head, a.id, a.version, "同意报送")  # type: ignore[arg-type]
    if fate < 0.6 or not later(rng.uniform(4, 48)):
        return  # awaiting review
    assignments.approve(session, c, coordinator, a.id, a.version, "同意办结")  # type: ignore[arg-type]
    case = session.get(Case, case_id)
    if case is None or case.source not in COMPLAINT_SOURCES or not later(rng.uniform(20, 60)):
        return
    # 回访: most complainants are reached and satisfied; a few are not, and one in a while is unhappy.
    roll = rng.random()
    reached = roll < 0.9
    callbacks.record_callback(session, c, coordinator, case_id, CallbackIn(
        assignment_id=a.id, reached=reached, attempts=1 if reached else 3,
        satisfaction=(None if not reached else Satisfaction.SATISFIED if roll < 0.65
                      else Satisfaction.BASICALLY_SATISFIED if roll < 0.82 else Satisfaction.UNSATISFIED),
        resolved=None if not reached else roll < 0.86,
        note="已电话回访投诉人" if reached else "三次拨打均未接通",
    ))
