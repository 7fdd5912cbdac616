"""Test data with Chinese names and valid credit codes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from shared.clock import Clock
from shared.departments.models import Department, DepartmentKind
from shared.users.models import Role, User
from shared.users.passwords import hash_password

DEPARTMENTS = [
    ("SCJG", "市场监督管理局", DepartmentKind.MARKET_REGULATION),
    ("XFXH", "消费者协会", DepartmentKind.CONSUMER_ASSOCIATION),
    ("GAJ", "公安局", DepartmentKind.PUBLIC_SECURITY),
    ("WJW", "卫生健康委员会", DepartmentKind.HEALTH),
    ("SWJ", "商务局", DepartmentKind.COMMERCE),
    ("TYJ", "体育局", DepartmentKind.SPORTS),
]

PASSWORD = "password123"
_HASH = hash_password(PASSWORD)


@dataclass
class World:
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def dept(self, code: str) -> Department:
        return self.departments[code]

    def user(self, name: str) -> User:
        return self.users[name]

    def liaison(self, code: str) -> User:
        return self.users[f"liaison_{code.lower()}"]

    def head(self, code: str) -> User:
        return self.users[f"head_{code.lower()}"]

    @property
    def coordinator(self) -> User:
        return self.users["coordinator"]

    @property
    def leader(self) -> User:
        return self.users["leader"]

    @property
    def admin(self) -> User:
        return self.users["admin"]


def build_world(session: Session, clock: Clock) -> World:
    w = World()
    now = clock.now()
    # One flush for the departments and one for the people (in the order added, so the ids are as
    # they were with a flush per row): every database test starts by building this world.
    for code, name, kind in DEPARTMENTS:
        d = Department(code=code, name=name, kind=kind, email=f"{code.lower()}@gov.example", created_at=now)
        session.add(d)
        w.departments[code] = d
    session.flush()

    def add(username: str, name: str, dept: str, role: Role) -> None:
        u = User(
            username=username, name=name, email=f"{username}@gov.example",
            department_id=w.departments[dept].id, role=role, password_hash=_HASH, created_at=now,
        )
        session.add(u)
        w.users[username] = u

    add("coordinator", "王协调", "SCJG", Role.COORDINATOR)
    add("coordinator2", "赵协调", "XFXH", Role.COORDINATOR)
    add("leader", "刘领导", "SCJG", Role.LEADER)
    add("admin", "系统管理员", "SCJG", Role.ADMIN)
    surnames = "张李陈杨黄周吴徐孙马"
    for i, (code, _name, _kind) in enumerate(DEPARTMENTS):
        add(f"liaison_{code.lower()}", f"{surnames[i]}联络", code, Role.LIAISON)
        add(f"head_{code.lower()}", f"{surnames[i]}主任", code, Role.HEAD)
    session.flush()
    return w


def credit_code(first17: str = "91320100MA1XXXXX0") -> str:
    from shared.cases.credit_code import with_check_character

    return with_check_character(first17)


def case_input(world: World, *, lead: str = "SCJG", shared: tuple[str, ...] = (), **overrides: object):  # type: ignore[no-untyped-def]
    from shared.cases.models import CaseSource
    from shared.cases.schemas import CaseCreate

    values: dict[str, object] = {
        "title": "某健身连锁门店预付卡退费难",
        "description": "12315 热线集中投诉：门店停业，会员卡无法退费。",
        "source": CaseSource.HOTLINE_12315,
        "category": "预付式消费",
        "region": "鼓楼区",
        "enterprise_name": "某某健身管理有限公司",
        "enterprise_credit_code": credit_code(),
        "complainant_name": "张三",
        "complainant_phone": "13812345678",
        "complainant_id_number": "11010119900307451X",
        "complainant_address": "江苏省南京市鼓楼区中山路1号",
        "lead_department_id": world.dept(lead).id,
        "shared_with": [world.dept(c).id for c in shared],
    }
    values.update(overrides)
    return CaseCreate(**values)  # type: ignore[arg-type]


def add_colleague(session: Session, clock: Clock, world: World, code: str, username: str, name: str,
                  role: Role = Role.LIAISON, *, active: bool = True) -> User:
    """One more person in a department (the world has one liaison and one head in each)."""
    u = User(username=username, name=name, email=f"{username}@gov.example", department_id=world.dept(code).id,
             role=role, password_hash=_HASH, created_at=clock.now(), active=active)
    session.add(u)
    session.flush()
    world.users[username] = u
    return u
