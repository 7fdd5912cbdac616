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
    """How often a department's queue changed: the database bumps it with every change a queue shows.

    Each API process keeps department queues (shared.assignments.queue) and
    compares this number on every read.  Triggers (QUEUE_STAMP_TRIGGERS) bump it
    in the transaction of every INSERT, UPDATE or DELETE on assignment and
    extension_request, and of every change to what a queue item shows of its
    case, whoever issues the statement: a use case, an admin in psql, a data
    fix or a migration.  A department without a row has never changed: it
    reads as 0.
    """

    __tablename__ = "queue_stamp"

    department_id: int = Field(primary_key=True, foreign_key="department.id",
                               sa_column_kwargs={"autoincrement": False})
    generation: int = 0


# PostgreSQL: one call per statement, over its transition tables, so a bulk load
# bumps each department once; departments in id order, so two transactions
# bumping the same ones queue instead of deadlocking.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION queue_stamp_bump() RETURNS trigger AS $$
DECLARE
    departments integer[] := '{}';
BEGIN
    IF TG_TABLE_NAME = 'case' THEN
        departments := ARRAY(
            SELECT a.department_id FROM new_rows n JOIN old_rows o ON o.id = n.id
            JOIN assignment a ON a.case_id = n.id
            WHERE (n.reference, n.title, n.lead_department_id, n.coordinator_id)
                  IS DISTINCT FROM (o.reference, o.title, o.lead_department_id, o.coordinator_id));
    ELSIF TG_TABLE_NAME = 'extension_request' THEN
        IF TG_OP = 'DELETE' THEN
            departments := ARRAY(SELECT a.department_id FROM old_rows o JOIN assignment a ON a.id = o.assignment_id);
        ELSE
            departments := ARRAY(SELECT a.department_id FROM new_rows n JOIN assignment a ON a.id = n.assignment_id);
        END IF;
    ELSE
        IF TG_OP <> 'DELETE' THEN
            departments := ARRAY(SELECT department_id FROM new_rows);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            departments := departments || ARRAY(SELECT department_id FROM old_rows);
        END IF;
    END IF;
    INSERT INTO queue_stamp AS s (department_id, generation)
    SELECT DISTINCT d, 1 FROM unnest(departments) AS d ORDER BY d
    ON CONFLICT (department_id) DO UPDATE SET generation = s.generation + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGERS = [
    f'CREATE TRIGGER queue_stamp_{table.strip(chr(34))}_{op.lower()} AFTER {op} ON {table} REFERENCING {refs} '
    "FOR EACH STATEMENT EXECUTE FUNCTION queue_stamp_bump()"
    for table, op, refs in (
        ("assignment", "INSERT", "NEW TABLE AS new_rows"),
        ("assignment", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("assignment", "DELETE", "OLD TABLE AS old_rows"),
        ("extension_request", "INSERT", "NEW TABLE AS new_rows"),
        ("extension_request", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("extension_request", "DELETE", "OLD TABLE AS old_rows"),
        ('"case"', "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    )
]

# SQLite: row triggers (it has no statement triggers); writers are serialised anyway.
_SQLITE_BUMP = ("INSERT INTO queue_stamp (department_id, generation) {source} "
                "ON CONFLICT (department_id) DO UPDATE SET generation = generation + 1;")


def _sqlite_trigger(name: str, event: str, *sources: str) -> str:
    body = " ".join(_SQLITE_BUMP.format(source=source) for source in sources)
    return f"CREATE TRIGGER queue_stamp_{name} AFTER {event} BEGIN {body} END"


_OF_EXTENSION = "SELECT department_id, 1 FROM assignment WHERE id = {row}.assignment_id"
_SQLITE_TRIGGERS = [
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

QUEUE_STAMP_TRIGGERS: dict[str, list[str]] = {"postgresql": [_PG_FUNCTION, *_PG_TRIGGERS],
                                              "sqlite": _SQLITE_TRIGGERS}
QUEUE_STAMP_DROP: dict[str, list[str]] = {
    "postgresql": ["DROP FUNCTION IF EXISTS queue_stamp_bump() CASCADE"],
    "sqlite": [f"DROP TRIGGER IF EXISTS {t.split()[2]}" for t in _SQLITE_TRIGGERS],
}

for _dialect, _statements in QUEUE_STAMP_TRIGGERS.items():
    for _statement in _statements:
        # After every table exists (create_all: tests, the benchmark's fallback); the migration runs the same text.
        event.listen(SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
