"""Generate the benchmark dataset on PostgreSQL: 1M cases, 3M assignments, 50 departments, 2,000 users.

    .venv/bin/python -m bench.dataset [--cases N] [--assignments N] [--departments N] [--users N]

The database (GONGZHI_BENCH_DATABASE_URL, default gongzhi_bench on the local
server) is dropped and created fresh.  The schema comes from the Alembic
migrations when they match the models, else from ``metadata.create_all`` (with
a printed note).  The small tables (departments, users, campaigns, the
calendar, an enterprise register) are written from Python; the large ones with
set-based SQL (bench/dataset_sql.py) while their secondary indexes and foreign
keys are detached, then the indexes are built and the keys validated once.

The data is shaped around one instant, ``now`` (by default the latest working
day at 10:00 Asia/Shanghai that has passed): cases over the ~2 years before it,
weekday and office-hour heavy and growing; each assignment's life drawn from
realistic delays and its state whatever that life reached at ``now``.  About
10,000 assignments are then due for a reminder at ``now`` (overdue, due within
two working days, not accepted in time, or awaiting a decision).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import create_engine, func, or_, select
from sqlalchemy.dialects import postgresql

from bench import dataset_sql as q
from bench.common import Timer, admin_url, bench_url, connect, database_name, sqlalchemy_url, write_meta
from shared.assignments import status
from shared.assignments.models import Assignment
from shared.calendar.rules import WorkingCalendar
from shared.cases.credit_code import ALPHABET, with_check_character
from shared.settings import Settings

TZ = ZoneInfo("Asia/Shanghai")
BIG_TABLES = ("case", "case_share", "assignment", "feedback", "extension_request", "callback",
              "assignment_dispatch", "assignment_return")


@dataclass(frozen=True)
class Scale:
    cases: int = 1_000_000
    assignments: int = 3_000_000
    departments: int = 50
    users: int = 2_000
    span_days: int = 730
    # Shapes the reminders due at `now` (about 1% of assignments at the default scale).
    late_accept: float = 0.05
    late_submit: float = 0.05

    @property
    def enterprises(self) -> int:
        return max(200, min(50_000, self.cases // 20))


# ------------------------------------------------------------------ vocabulary

DEPARTMENT_NAMES = [
    ("SCJG", "市市场监督管理局", "market_regulation"), ("XFXH", "市消费者协会", "consumer_association"),
    ("GAJ", "市公安局", "public_security"), ("WJW", "市卫生健康委员会", "health"),
    ("SWJ", "市商务局", "commerce"), ("WLJ", "市文化和旅游局", "culture_tourism"),
    ("JYJ", "市教育局", "education"), ("TYJ", "市体育局", "sports"), ("ZJJ", "市住房和城乡建设局", "housing"),
    ("NYJ", "市农业农村局", "other"), ("JTJ", "市交通运输局", "other"), ("HBJ", "市生态环境局", "other"),
    ("YJJ", "市应急管理局", "other"), ("CGJ", "市城市管理综合执法局", "other"),
    ("RSJ", "市人力资源和社会保障局", "other"), ("MZJ", "市民政局", "other"), ("SFJ", "市司法局", "other"),
    ("YBJ", "市医疗保障局", "other"), ("SWU", "市税务局", "other"), ("TXB", "市通信管理办公室", "other"),
    ("JRB", "市地方金融监督管理局", "other"), ("YZJ", "市邮政管理局", "other"),
    ("ZRJ", "市自然资源和规划局", "other"), ("SLJ", "市水利局", "other"), ("FGW", "市发展和改革委员会", "other"),
    ("GXJ", "市工业和信息化局", "other"), ("KJJ", "市科学技术局", "other"), ("CZJ", "市财政局", "other"),
    ("XFJ", "市信访局", "other"), ("YCJ", "市烟草专卖局", "other"), ("XFZD", "市消防救援支队", "other"),
    ("DCQ", "东城区人民政府", "other"), ("XCQ", "西城区人民政府", "other"), ("NHQ", "南湖区人民政府", "other"),
    ("BGQ", "北岗区人民政府", "other"), ("GXQ", "高新区管委会", "other"), ("JKQ", "经开区管委会", "other"),
    ("CGJD", "城关街道办事处", "other"), ("DGJD", "东关街道办事处", "other"), ("XCJD", "新城街道办事处", "other"),
    ("BJJD", "滨江街道办事处", "other"), ("WCJD", "文昌街道办事处", "other"), ("HPJD", "和平街道办事处", "other"),
    ("RMJD", "人民路街道办事处", "other"), ("CAJD", "长安街道办事处", "other"),
    ("JFJD", "解放路街道办事处", "other"), ("LQZ", "龙泉镇人民政府", "other"), ("QSZ", "青山镇人民政府", "other"),
    ("HSZ", "湖山镇人民政府", "other"), ("TPZ", "太平镇人民政府", "other"),
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈")
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰",
         "霞", "平", "刚", "桂英", "建国", "晓梅", "志强", "丽华", "海燕", "雪梅", "文博", "子涵", "浩然", "雨欣",
         "思远", "俊杰", "欣怡", "宇航", "梓萱", "建华", "立新", "晓东", "红梅", "春燕", "国强", "玉兰", "德明"]
REGIONS = ["东城区", "西城区", "南湖区", "北岗区", "高新区", "经开区", "滨江新区", "龙泉镇", "青山镇", "湖山镇"]
STREETS = ["人民路", "解放路", "中山路", "建设路", "和平街", "文昌路", "长安街", "新华路", "滨江大道", "学府路"]
CATEGORIES = [
    ("预付式消费", "预付卡退费纠纷"), ("食品安全", "食品安全问题投诉"), ("网络购物", "网购商品质量纠纷"),
    ("价格违法", "价格欺诈举报"), ("虚假宣传", "虚假宣传举报"), ("产品质量", "产品质量投诉"),
    ("医疗美容", "医美服务纠纷"), ("教育培训", "培训机构退费纠纷"), ("旅游服务", "旅游合同纠纷"),
    ("房屋中介", "中介服务纠纷"), ("汽车销售维修", "汽车维修纠纷"), ("餐饮服务", "餐饮卫生投诉"),
    ("保健食品", "保健食品虚假宣传举报"), ("直播带货", "直播带货售后纠纷"), ("家政服务", "家政服务纠纷"),
    ("电信服务", "套餐资费争议"),
]
DESCRIPTIONS = [
    "消费者称商家拒绝按约定退还剩余款项，多次协商未果，请求有关部门核查处理。",
    "反映商家存在夸大宣传、诱导消费行为，要求依法查处并协调退赔。",
    "消费者购买后发现商品存在质量问题，商家拒绝履行三包义务。",
    "多名消费者集中反映同一经营者问题，涉及金额较大，需多部门联合核查。",
    "媒体报道相关问题后引发关注，请相关部门依职责核实并反馈处理结果。",
]
BRANDS = ["恒达", "金鼎", "华瑞", "鑫源", "嘉禾", "优品", "康健", "悦动", "博学", "乐享", "顺心", "锦程", "宏图",
          "美佳", "安居", "惠民", "星辰", "睿思", "天合", "众诚"]
TRADES = [("健身", "健身服务有限公司"), ("餐饮", "餐饮管理有限公司"), ("教育", "教育咨询有限公司"),
          ("美容", "美容美发有限公司"), ("商贸", "商贸有限公司"), ("房产", "房地产经纪有限公司"),
          ("旅行社", "国际旅行社有限公司"), ("电商", "电子商务有限公司"), ("医美", "医疗美容诊所有限公司"),
          ("超市", "超市连锁有限公司"), ("汽修", "汽车服务有限公司"), ("家政", "家政服务有限公司")]
INSTRUCTIONS = ["核查经营资质并反馈", "联系消费者调解并反馈结果", "现场检查并依法处理", "核实举报线索，依职责查处",
                "协助调取相关证据材料", "督促经营者整改并反馈整改情况"]
NARRATIVES = ["已现场检查，责令经营者限期整改，消费者诉求已协调解决。", "经调解，双方达成和解，经营者已退还相关款项。",
              "已立案调查，依法作出行政处罚决定。", "经核查，举报情况部分属实，已督促整改并回访消费者。",
              "已约谈经营者负责人，现场检查未发现新的违法行为。"]
CAMPAIGNS = ["价格监督检查专项行动", "网剑行动", "校外培训机构专项治理", "医疗美容行业突出问题专项治理",
             "食品安全守护行动", "铁拳行动", "预付式消费领域专项整治", "守护安全消费，提振消费信心"]
SOURCES = [("hotline_12315", 0.45), ("online_platform", 0.25), ("inspection", 0.12), ("media", 0.03),
           ("referral", 0.10), ("other", 0.05)]
PRIORITIES = [("normal", 0.80), ("high", 0.12), ("low", 0.05), ("urgent", 0.03)]
RETURN_REASONS = ["not_our_jurisdiction", "wrong_locality", "unclear_ownership", "duplicate", "other"]
# Feedback deadlines in working days: mostly 5–10 (the statutory templates), some long rectifications.
WORKING_DAYS = [(5, 0.20), (7, 0.30), (10, 0.30), (15, 0.10), (20, 0.06), (40, 0.04)]
BENCH_PASSWORD = "bench-password-1"


def _cdf(weights: list[float]) -> list[float]:
    """Thresholds for width_bucket: bucket i (0-based) has probability weights[i] / sum."""
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights[:-1]:
        acc += w / total
        out.append(acc)
    return out


def default_now(cal: WorkingCalendar | None = None) -> datetime:
    """The latest working day at 10:00 local that has passed: reminders run then."""
    cal = cal or WorkingCalendar(tz=TZ, close_of_business=Settings(demo=True).close_of_business)
    local = datetime.now(TZ)
    day = local.date() if local.hour >= 10 else local.date() - timedelta(days=1)
    while not cal.is_working_day(day):
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ).astimezone(UTC)


# ------------------------------------------------------------------ database and schema


def recreate_database(url: str) -> None:
    name = database_name(url)
    with closing(psycopg.connect(admin_url(url), autocommit=True)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]


def _schema_differences(url: str) -> list[str]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import shared.models

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return [repr(d)[:200] for d in compare_metadata(context, shared.models.metadata)]
    finally:
        engine.dispose()


def build_schema(url: str) -> dict[str, Any]:
    """Alembic when the migrations match the models; create_all otherwise (and say why)."""
    import shared.models
    from shared import migrate

    try:
        migrate.upgrade(sqlalchemy_url(url))
        differences = _schema_differences(url)
        if not differences:
            return {"schema": "alembic"}
        note = f"migrations differ from the models in {len(differences)} place(s), e.g. {differences[:3]}"
    except Exception as exc:  # noqa: BLE001 - any failure falls back to the models
        note = f"migrations failed: {exc.__class__.__name__}: {str(exc)[:300]}"
    print(f"  NOTE: {note}; using metadata.create_all instead", flush=True)
    recreate_database(url)
    engine = create_engine(sqlalchemy_url(url))
    try:
        shared.models.metadata.create_all(engine)
    finally:
        engine.dispose()
    return {"schema": "create_all", "schema_note": note}


def seed_calendar(url: str, now: datetime) -> WorkingCalendar:
    """The app's own seeding (shared.calendar.service.seed_from_package), then its calendar."""
    from sqlmodel import Session

    from shared.calendar.service import seed_from_package, working_calendar
    from shared.clock import FrozenClock

    settings = Settings(demo=True, database_url=sqlalchemy_url(url))
    engine = create_engine(sqlalchemy_url(url))
    try:
        with Session(engine) as session:
            seed_from_package(session, FrozenClock(now), settings)
            session.commit()
            return working_calendar(session, settings)
    finally:
        engine.dispose()


# ------------------------------------------------------------------ small tables (Python)


def department_weights(n: int) -> list[float]:
    """A few big departments and a long tail (Zipf-like)."""
    return [1.0 / (i + 1) ** 0.9 for i in range(n)]


def _departments(n: int) -> list[tuple[str, str, str]]:
    out = list(DEPARTMENT_NAMES[:n])
    for i in range(len(out), n):
        out.append((f"D{i + 1:03d}", f"第{i + 1}协作单位", "other"))
    return out


@dataclass
class People:
    rows: list[tuple[Any, ...]]
    liaisons: dict[int, list[int]]
    coordinators: dict[int, list[int]]
    heads: dict[int, list[int]]


def plan_users(scale: Scale, rng: random.Random, password_hash: str, created_at: datetime) -> People:
    """Heads, leaders, coordinators and admins by rule; the rest are liaisons, by workload.

    At 1,370 new cases a day the departments' case workers are the liaisons of
    this system, so most users are liaisons, many in the big departments.
    """
    d = scale.departments
    weights = department_weights(d)
    total_w = sum(weights)
    lead = [0.6 * w / total_w + (0.4 if i == 0 else 0.0) for i, w in enumerate(weights)]
    work = [0.35 * lead[i] + 0.65 * weights[i] / total_w for i in range(d)]
    per_dept = 2 if scale.users >= 20 * d else 1
    admins = max(1, min(5, scale.users // 400))
    coordinators = max(2, scale.users // 40)
    fixed = admins + coordinators + 2 * per_dept * d  # heads and leaders
    liaisons_total = scale.users - fixed
    if liaisons_total < 2 * d:
        raise SystemExit(f"--users {scale.users} is too few for {d} departments")
    liaisons = [max(2, round(liaisons_total * w)) for w in work]
    liaisons[0] += liaisons_total - sum(liaisons)

    roles: list[tuple[int, str]] = [(1, "admin")] * admins
    # Half the coordinators sit in the coordinating office (market regulation), the rest one per department.
    in_office = coordinators - min(coordinators // 2, d - 1)
    roles += [(1, "coordinator")] * in_office
    roles += [(2 + i, "coordinator") for i in range(coordinators - in_office)]
    for dept in range(1, d + 1):
        roles += [(dept, "head")] * per_dept + [(dept, "leader")] * per_dept
        roles += [(dept, "liaison")] * liaisons[dept - 1]

    people = People([], {}, {}, {})
    counters: dict[str, int] = {}
    for user_id, (dept, role) in enumerate(roles, start=1):
        counters[role] = counters.get(role, 0) + 1
        username = f"{role}{counters[role]:04d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        language = "en" if rng.random() < 0.03 else "zh-CN"
        mode = "immediate" if rng.random() < 0.05 else "digest"
        people.rows.append((user_id, username, name, f"{username}@gov.example", dept, role, password_hash,
                            language, mode, "[]", True, created_at, 1))
        bucket = {"liaison": people.liaisons, "coordinator": people.coordinators, "head": people.heads}.get(role)
        if bucket is not None:
            bucket.setdefault(dept, []).append(user_id)
    return people


def _flatten(groups: dict[int, list[int]], departments: int, fallback: int = 1) -> dict[str, list[int]]:
    """One array of ids with per-department offsets, for uniform picks in SQL."""
    flat: list[int] = []
    lo, n = [], []
    starts: dict[int, tuple[int, int]] = {}
    for dept in sorted(groups):
        starts[dept] = (len(flat) + 1, len(groups[dept]))
        flat.extend(groups[dept])
    for dept in range(1, departments + 1):
        start, count = starts.get(dept) or starts[fallback]
        lo.append(start)
        n.append(count)
    return {"all": flat, "lo": lo, "n": n}


def enterprise_rows(count: int, rng: random.Random) -> list[tuple[int, str, str, str]]:
    rows = []
    seen: set[str] = set()
    for i in range(1, count + 1):
        region = rng.choice(REGIONS)
        brand = rng.choice(BRANDS) + rng.choice(BRANDS)
        short, trade = rng.choice(TRADES)
        name = f"{region[:2]}{brand}{trade}"
        while True:
            first17 = "91330" + "".join(rng.choice("0123456789") for _ in range(3)) + "".join(
                rng.choice(ALPHABET) for _ in range(9))
            code = with_check_character(first17)
            if code not in seen:
                seen.add(code)
                break
        rows.append((i, name, f"{brand}{short}", code))
    return rows


def _copy(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[arg-type]
        for row in rows:
            copy.write_row(row)


# ------------------------------------------------------------------ indexes and keys


@dataclass
class Detached:
    foreign_keys: list[str]
    uniques: list[str]
    indexes: list[str]


def detach(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> Detached:
    """Drop secondary indexes, unique constraints and foreign keys; return the DDL to restore them."""
    regs = [f'"{t}"' for t in tables]
    cons = conn.execute(
        """SELECT c.contype, c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid)
           FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u')
           ORDER BY c.contype, c.conname""",
        (regs,),
    ).fetchall()
    idx = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i
           WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)""",
        (regs,),
    ).fetchall()
    out = Detached([], [], [])
    for kind, table, name, definition in cons:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")  # type: ignore[arg-type]
        ddl = f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        (out.foreign_keys if kind == "f" else out.uniques).append(ddl)
    for name, definition in idx:
        conn.execute(f"DROP INDEX {name}")  # type: ignore[arg-type]
        out.indexes.append(definition)
    return out


def reattach(conn: psycopg.Connection[Any], detached: Detached, timer: Timer) -> None:
    with timer.step(f"build {len(detached.indexes)} indexes, {len(detached.uniques)} unique constraints"):
        for ddl in detached.indexes + detached.uniques:
            conn.execute(ddl)  # type: ignore[arg-type]
    with timer.step(f"validate {len(detached.foreign_keys)} foreign keys"):
        for ddl in detached.foreign_keys:
            conn.execute(ddl)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the run


def _day_arrays(cal: WorkingCalendar, first: date, last: date) -> dict[str, Any]:
    ords: list[int] = []
    wd_days: list[date] = []
    day, n = first, 0
    while day <= last:
        if cal.is_working_day(day):
            n += 1
            wd_days.append(day)
        ords.append(n)
        day += timedelta(days=1)
    return {"first_day": first, "ords": ords, "wd_days": wd_days}


def _slots(cal: WorkingCalendar, base_day: date, now: datetime, span_days: int) -> list[float]:
    """Weights of each hour from base_day 00:00 local up to `now`: office hours, weekdays, growth."""
    hour_w = [0.04] * 7 + [0.25, 0.7, 1.0, 1.0, 1.0, 0.6, 0.6, 1.0, 1.0, 1.0, 0.9, 0.4, 0.3, 0.2, 0.15, 0.08, 0.05]
    end_local = now.astimezone(TZ)
    weights: list[float] = []
    for i in range(span_days + 1):
        day = base_day + timedelta(days=i)
        growth = 0.7 + 0.6 * i / span_days
        day_w = growth * (1.0 if cal.is_working_day(day) else 0.35)
        for h in range(24):
            if datetime(day.year, day.month, day.day, h + 1 if h < 23 else 23, 0 if h < 23 else 59,
                         tzinfo=TZ) > end_local:
                return weights
            weights.append(day_w * hour_w[h])
    return weights


def generate(url: str, scale: Scale, now: datetime | None = None, seed: int = 20261201) -> dict[str, Any]:
    timer = Timer("dataset")
    rng = random.Random(seed)
    print(f"generating {asdict(scale)} into {database_name(url)}", flush=True)
    started = time.perf_counter()
    with timer.step("create database and schema"):
        recreate_database(url)
        schema = build_schema(url)
    with timer.step("seed calendar (shared.calendar.service.seed_from_package)"):
        cal = seed_calendar(url, now or datetime.now(UTC))
    now = now or default_now(cal)
    settings = Settings(demo=True)
    base_day = (now.astimezone(TZ) - timedelta(days=scale.span_days)).date()
    official_until = max(y for y in range(2000, 2100) if not cal.is_provisional_year(y))

    with closing(connect(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_workers_per_gather = 0")  # random() must come from the seeded backend
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET jit = off")  # compiling these wide expressions costs more than it saves
        conn.execute("SELECT setseed(%s)", (rng.random() * 2 - 1,))

        with timer.step("departments, users, campaigns, enterprises"):
            from shared.users.passwords import hash_password

            depts = _departments(scale.departments)
            since = now - timedelta(days=scale.span_days + 30)
            _copy(conn, "department", ["id", "code", "name", "kind", "email", "active", "signoff_required",
                                       "created_at", "version"],
                  [(i, code, name, kind, f"{code.lower()}@gov.example", True, False, since, 1)
                   for i, (code, name, kind) in enumerate(depts, start=1)])
            people = plan_users(scale, rng, hash_password(BENCH_PASSWORD), since)
            _copy(conn, '"user"', ["id", "username", "name", "email", "department_id", "role", "password_hash",
                                   "language", "notify_mode", "notify_opt_out", "active", "created_at", "version"],
                  people.rows)
            base = datetime(base_day.year, base_day.month, base_day.day, tzinfo=TZ).astimezone(UTC)
            span = now - base
            camp_starts = [base + span * i / len(CAMPAIGNS) for i in range(len(CAMPAIGNS))]
            camp_ends = [s + timedelta(days=60) for s in camp_starts]
            _copy(conn, "campaign", ["id", "name", "description", "starts_on", "ends_on", "lead_department_id",
                                     "created_at", "version"],
                  [(i + 1, name, f"{name}（全市）", camp_starts[i].astimezone(TZ).date(),
                    camp_ends[i].astimezone(TZ).date(), 1, camp_starts[i], 1) for i, name in enumerate(CAMPAIGNS)])
            conn.execute("CREATE UNLOGGED TABLE bench_enterprise (id int PRIMARY KEY, name text, short_name text,"
                         " credit_code text)")
            _copy(conn, "bench_enterprise", ["id", "name", "short_name", "credit_code"],
                  enterprise_rows(scale.enterprises, rng))

        coords = _flatten(people.coordinators, scale.departments)
        liaisons = _flatten(people.liaisons, scale.departments)
        days = _day_arrays(cal, base_day - timedelta(days=7), now.astimezone(TZ).date() + timedelta(days=400))
        params: dict[str, Any] = {
            "now": now, "base": base, "cases": scale.cases, "assignments": scale.assignments,
            "slot_cdf": _cdf(_slots(cal, base_day, now, scale.span_days)),
            "dept_cdf": _cdf(department_weights(scale.departments)),
            "coord_all": coords["all"], "coord_lo": coords["lo"], "coord_n": coords["n"],
            "liaison_all": liaisons["all"], "liaison_lo": liaisons["lo"], "liaison_n": liaisons["n"],
            "sources": [s for s, _ in SOURCES], "source_cdf": _cdf([w for _, w in SOURCES]),
            "priorities": [p for p, _ in PRIORITIES], "priority_cdf": _cdf([w for _, w in PRIORITIES]),
            "n_categories": len(CATEGORIES), "categories": [c for c, _ in CATEGORIES],
            "category_titles": [t for _, t in CATEGORIES], "n_regions": len(REGIONS), "regions": REGIONS,
            "n_enterprises": scale.enterprises, "campaign_starts": camp_starts, "campaign_ends": camp_ends,
            "wd_choices": [d for d, _ in WORKING_DAYS], "wd_cdf": _cdf([w for _, w in WORKING_DAYS]),
            "close_of_business": settings.close_of_business, "official_until": date(official_until, 12, 31),
            "late_accept": scale.late_accept, "late_submit": scale.late_submit,
            "return_reasons": RETURN_REASONS, "n_return_reasons": len(RETURN_REASONS),
            "instructions": INSTRUCTIONS, "n_instructions": len(INSTRUCTIONS),
            "descriptions": DESCRIPTIONS, "n_descriptions": len(DESCRIPTIONS),
            "surnames": SURNAMES, "n_surnames": len(SURNAMES), "given_names": GIVEN, "n_given_names": len(GIVEN),
            "phone_prefixes": ["38", "39", "50", "58", "86", "89", "77", "35"], "n_phone_prefixes": 8,
            "streets": STREETS, "n_streets": len(STREETS),
            "narratives": NARRATIVES, "n_narratives": len(NARRATIVES), "association": 2,
            **days,
        }

        def run(sql: str) -> None:
            names = [k for k in params if f"%({k})s" in sql]
            values = {k: params[k] for k in names}
            if os.environ.get("BENCH_EXPLAIN"):
                plan = conn.execute("EXPLAIN " + sql, values).fetchall()  # type: ignore[arg-type]
                print("\n".join(r[0] for r in plan), flush=True)
            conn.execute(sql, values)  # type: ignore[arg-type]

        with timer.step("detach secondary indexes and foreign keys"):
            detached = detach(conn, BIG_TABLES)
        with timer.step(f"stage {scale.cases:,} cases"):
            run(q.CASE_STAGE)
            conn.execute("ALTER TABLE bench_c ADD PRIMARY KEY (id)")
            conn.execute("ANALYZE bench_c")
        with timer.step(f"stage {scale.assignments:,} assignments (lives drawn, states at now)"):
            run(q.ASSIGNMENT_STAGE)
            run(q.ASSIGNMENT_ORDER)
            conn.execute("DROP TABLE bench_a1")
            conn.execute("ALTER TABLE bench_a ADD PRIMARY KEY (id)")
            conn.execute("ANALYZE bench_a")
        with timer.step("insert assignments"):
            run(q.INSERT_ASSIGNMENTS)
        with timer.step("insert cases (status from their assignments)"):
            run(q.INSERT_CASES)
        with timer.step("insert case shares"):
            run(q.INSERT_SHARES)
        with timer.step("insert feedback"):
            run(q.INSERT_FEEDBACK)
        with timer.step("insert callbacks"):
            run(q.INSERT_CALLBACKS)
        with timer.step("insert dispatches and returns (the weekly figures' fact tables)"):
            run(q.INSERT_DISPATCHES)
            run(q.INSERT_RETURNS)
        with timer.step("insert extension requests, case sequences"):
            run(q.INSERT_EXTENSIONS)
            run(q.INSERT_CASE_SEQUENCES)
        with timer.step("drop staging tables"):
            conn.execute("DROP TABLE bench_a, bench_c, bench_enterprise")
        reattach(conn, detached, timer)
        for table in ("department", "user", "campaign", "case", "assignment"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # type: ignore[arg-type]
                         f"(SELECT max(id) FROM \"{table}\"))")
        conn.commit()

    with timer.step("case_search in enterprise-name order, as each night leaves it"):
        from shared.cases import search_table
        from shared.db import make_engine

        engine = make_engine(sqlalchemy_url(url))
        with engine.begin() as sa_conn:
            search_table.cluster(sa_conn)
        engine.dispose()
    with timer.step("VACUUM ANALYZE"), closing(connect(url, autocommit=True)) as conn:
        conn.execute("VACUUM ANALYZE")
    elapsed = round(time.perf_counter() - started, 1)
    stats = dataset_stats(url, now, cal)
    meta = {
        "now": now.isoformat(), "scale": asdict(scale), "seed": seed, **schema,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generation_seconds": elapsed, "steps": timer.steps, "stats": stats,
    }
    write_meta(url, meta)
    print(f"dataset ready in {elapsed:.0f}s: {json.dumps(stats, ensure_ascii=False)}", flush=True)
    return meta


# ------------------------------------------------------------------ what was built


def reminder_window(cal: WorkingCalendar, now: datetime) -> tuple[datetime, datetime]:
    """(soon, cutoff) as the reminder pass computes them: the end of the 预警 window, today's start."""
    soon = status.due_soon_cutoff(cal, now)
    today = cal.local_date(now)
    cutoff = datetime.combine(today, datetime.min.time(), tzinfo=TZ).astimezone(UTC)
    return soon, cutoff


def _psycopg(stmt: Any) -> tuple[str, dict[str, Any]]:
    """A SQLAlchemy statement as psycopg text and parameters (status's conditions, not a copy)."""
    compiled = stmt.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[attr-defined]
    return str(compiled), dict(compiled.params)


def dataset_stats(url: str, now: datetime, cal: WorkingCalendar) -> dict[str, Any]:
    soon, cutoff = reminder_window(cal, now)
    with closing(connect(url, autocommit=True)) as conn:
        def one(sql: str, *args: Any) -> Any:
            row = conn.execute(sql, args).fetchone()  # type: ignore[arg-type]
            return row[0] if row else None

        def count(condition: Any) -> Any:
            row = conn.execute(*_psycopg(select(func.count()).select_from(Assignment).where(condition))).fetchone()
            return row[0] if row else None

        states = dict(conn.execute("SELECT state, count(*) FROM assignment GROUP BY state").fetchall())
        a = Assignment.__table__.c  # type: ignore[attr-defined]
        open_per_dept = conn.execute(*_psycopg(
            select(a.department_id, func.count()).where(status.open_sql()).group_by(a.department_id)
            .order_by(func.count()))).fetchall()
        due = count(or_(status.overdue_sql(now), status.due_soon_sql(now, soon), status.acceptance_overdue_sql(now)))
        # Waiting for a decision since before the previous working day (≥ 1 working day).
        waiting_since = cal.close_of_business_on(cal.local_date(cutoff - timedelta(days=1)))
        while not cal.is_working_day(cal.local_date(waiting_since)):
            waiting_since -= timedelta(days=1)
        review = one("SELECT count(*) FROM assignment WHERE state = 'submitted' AND updated_at < %s",
                     waiting_since)
        returned = one("SELECT count(*) FROM assignment WHERE state = 'returned' AND updated_at < %s",
                       waiting_since)
        extensions = one("SELECT count(*) FROM extension_request WHERE state = 'pending' AND requested_at < %s",
                         waiting_since)
        stats = {
            "cases": one('SELECT count(*) FROM "case"'),
            "cases_open": one("SELECT count(*) FROM \"case\" WHERE status = 'open'"),
            "assignments": sum(states.values()),
            "assignment_states": states,
            "open_fraction": round(sum(states.get(s, 0) for s in ("dispatched", "accepted")) /
                                   max(1, sum(states.values())), 4),
            "overdue_open": count(status.overdue_sql(now)),
            "reminder_due_estimate": {"deadlines": due, "reviews": review, "returns": returned,
                                      "extensions": extensions,
                                      "total": (due or 0) + (review or 0) + (returned or 0) + (extensions or 0)},
            "case_shares": one("SELECT count(*) FROM case_share"),
            "feedback": one("SELECT count(*) FROM feedback"),
            "extension_requests": one("SELECT count(*) FROM extension_request"),
            "callbacks": one("SELECT count(*) FROM callback"),
            "dispatches": one("SELECT count(*) FROM assignment_dispatch"),
            "returns": one("SELECT count(*) FROM assignment_return"),
            "departments": one("SELECT count(*) FROM department"),
            "users": dict(conn.execute('SELECT role, count(*) FROM "user" GROUP BY role').fetchall()),
            "open_per_department_min_max": [open_per_dept[0][1], open_per_dept[-1][1]] if open_per_dept else [],
            "calendar_days": one("SELECT count(*) FROM calendar_day"),
            "database_size": one("SELECT pg_size_pretty(pg_database_size(current_database()))"),
        }
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_scale_arguments(parser)
    args = parser.parse_args(argv)
    generate(bench_url(), scale_from(args), now=parse_now(args.now))


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    d = Scale()
    parser.add_argument("--cases", type=int, default=d.cases)
    parser.add_argument("--assignments", type=int, default=None, help="default: 3 × cases")
    parser.add_argument("--departments", type=int, default=d.departments)
    parser.add_argument("--users", type=int, default=d.users)
    parser.add_argument("--now", default=None,
                        help="ISO-8601 instant the data is shaped around (default: last working day 10:00 local)")


def scale_from(args: argparse.Namespace) -> Scale:
    return Scale(cases=args.cases, assignments=args.assignments or 3 * args.cases,
                 departments=args.departments, users=args.users)


def parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(value)
    return (at if at.tzinfo else at.replace(tzinfo=TZ)).astimezone(UTC)


if __name__ == "__main__":
    main()
