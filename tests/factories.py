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
    for code, name, kind in DEPARTMENTS:
        d = Department(code=code, name=name, kind=kind, email=f"{code.lower()}@gov.example", created_at=now)
        session.add(d)
        session.flush()
        w.departments[code] = d

    def add(username: str, name: str, dept: str, role: Role) -> None:
        u = User(
            username=username, name=name, email=f"{username}@gov.example",
            department_id=w.departments[dept].id, role=role, password_hash=_HASH, created_at=now,
        )
        session.add(u)
        session.flush()
        w.users[username] = u

    add("coordinator", "王协调", "SCJG", Role.COORDINATOR)
    add("coordinator2", "赵协调", "XFXH", Role.COORDINATOR)
    add("leader", "刘领导", "SCJG", Role.LEADER)
    add("admin", "系统管理员", "SCJG", Role.ADMIN)
    surnames = "张李陈杨黄周吴徐孙马"
    for i, (code, _name, _kind) in enumerate(DEPARTMENTS):
        add(f"liaison_{code.lower()}", f"{surnames[i]}联络", code, Role.LIAISON)
        add(f"head_{code.lower()}", f"{surnames[i]}主任", code, Role.HEAD)
    return w
