from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, event
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class DepartmentKind(StrEnum):
    """部门类别"""

    MARKET_REGULATION = "market_regulation"
    CONSUMER_ASSOCIATION = "consumer_association"
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    COMMERCE = "commerce"
    CULTURE_TOURISM = "culture_tourism"
    EDUCATION = "education"
    SPORTS = "sports"
    HOUSING = "housing"
    OTHER = "other"


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    kind: DepartmentKind = enum_field(DepartmentKind, DepartmentKind.OTHER)
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    # 审签: a liaison's feedback goes to the department head before the coordinator sees it.
    signoff_required: bool = False
    created_at: datetime = utc_field()
    version: int = 1


class QueueStamp(SQLModel, table=True):
    """SQLite: how often a department's queue changed; the database bumps it with every change a queue shows.

    Each API process keeps department queues (shared.assignments.queue).  On
    SQLite, which has no NOTIFY, it compares this number on every read:
    triggers (QUEUE_STAMP_TRIGGERS) bump it in the transaction of every INSERT,
    UPDATE or DELETE on assignment and extension_request, of every 督办 added or
    removed (assignment_urge), and of every change
    to what a queue item shows of its case, whoever issues the statement.  A
    department without a row has never changed: it reads as 0.  PostgreSQL
    notifies the processes instead (shared.invalidation), so this table stays
    empty there.
    """

    __tablename__ = "queue_stamp"

    department_id: int = Field(primary_key=True, foreign_key="department.id",
                               sa_column_kwargs={"autoincrement": False})
    generation: int = 0


# SQLite: row triggers (it has no statement triggers); writers are serialised anyway.
_SQLITE_BUMP = ("INSERT INTO queue_stamp (department_id, generation) {source} "
                "ON CONFLICT (department_id) DO UPDATE SET generation = generation + 1;")


def _sqlite_trigger(name: str, event: str, *sources: str) -> str:
    body = " ".join(_SQLITE_BUMP.format(source=source) for source in sources)
    return f"CREATE TRIGGER queue_stamp_{name} AFTER {event} BEGIN {body} END"


_OF_EXTENSION = "SELECT department_id, 1 FROM assignment WHERE id = {row}.assignment_id"
_SQLITE_TRIGGERS = [
    # 挂牌督办 (assignment_urge) shows on the queue's items as well.
    *(_sqlite_trigger(f"assignment_urge_{op.lower()}", f"{op} ON assignment_urge", _OF_EXTENSION.format(row=row))
      for op, row in (("INSERT", "NEW"), ("DELETE", "OLD"))),
    _sqlite_trigger("assignment_insert", "INSERT ON assignment", "VALUES (NEW.department_id, 1)"),
    _sqlite_trigger("assignment_update", "UPDATE ON assignment",
                    "VALUES (OLD.department_id, 1)", "VALUES (NEW.department_id, 1)"),
    _sqlite_trigger("assignment_delete", "DELETE ON assignment", "VALUES (OLD.department_id, 1)"),
    _sqlite_trigger("extension_request_insert", "INSERT ON extension_request", _OF_EXTENSION.format(row="NEW")),
    _sqlite_trigger("extension_request_update", "UPDATE ON extension_request", _OF_EXTENSION.format(row="NEW")),
    _sqlite_trigger("extension_request_delete", "DELETE ON extension_request", _OF_EXTENSION.format(row="OLD")),
    _sqlite_trigger("case_update", 'UPDATE OF reference, title, lead_department_id, coordinator_id ON "case"',
                    "SELECT DISTINCT department_id, 1 FROM assignment WHERE case_id = NEW.id"),
]

QUEUE_STAMP_TRIGGERS: dict[str, list[str]] = {"sqlite": _SQLITE_TRIGGERS}
QUEUE_STAMP_DROP: dict[str, list[str]] = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {t.split()[2]}" for t in _SQLITE_TRIGGERS],
}

for _dialect, _statements in QUEUE_STAMP_TRIGGERS.items():
    for _statement in _statements:
        # After every table exists (create_all: tests, the benchmark's fallback); the migration runs the same text.
        event.listen(SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
