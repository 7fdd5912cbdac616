"""`case_search`: what a fragment search reads of each case, kept in enterprise-name order.

A fragment of an enterprise's name (惠民睿思) is held by a few thousand of a million
cases, and the trigram index finds them at once; what costs is reading each hit's
row to test the pattern and to sort by date.  In `case` those rows lie wherever the
cases were written, one page per hit: ~1,950 pages for a four-character fragment,
2.2–3.5 ms of PostgreSQL's CPU, the search's whole cost.  Here each case has a
narrow row (its id, when it was opened, its lead department, title and enterprise
name), and the table is rewritten every night in enterprise-name order
(`cluster`), so one enterprise's cases — and their titles, which name it — sit
side by side: the same fragment reads ~45 pages (0.6–1 ms).  Cases opened since the
last night are at the end, one page per few dozen cases.

Triggers written here keep the rows in step with `case` in the transaction of every
write, whoever makes it: new cases by the statement (a bulk import adds its rows in
one statement), changes by the row, and only when one of these columns changes,
so the frequent writes to a case's status or version leave the order alone.  A case
deleted takes its row with it (foreign key).

The searches read it for the cases holding a fragment: the case list's candidates
(shared/cases/queries.py) and the assignment list's search (shared/assignments/queries.py).
SQLite keeps it as well, so both databases have one schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, Connection, Index, event, text
from sqlmodel import Field, SQLModel

from shared.cases.models import trigram_index
from shared.columns import utc_field

TABLE = "case_search"
ORDER_INDEX = "ix_case_search_name"


class CaseSearch(SQLModel, table=True):
    __tablename__ = TABLE
    __table_args__ = (
        # The order `cluster` writes the rows in: one enterprise's cases together, then by title.
        Index(ORDER_INDEX, "enterprise_name", "title"),
        trigram_index("ix_case_search_title_trgm", "title"),
        trigram_index("ix_case_search_enterprise_name_trgm", "enterprise_name"),
    )

    case_id: int = Field(primary_key=True, foreign_key="case.id", ondelete="CASCADE")
    created_at: datetime = utc_field()
    lead_department_id: int
    title: str = Field(max_length=200)
    enterprise_name: str | None = Field(default=None, max_length=200)


# The columns copied from `case`, named alike in both tables; case_search's key is the case's id.
_KEPT = ("created_at", "lead_department_id", "title", "enterprise_name")
_COLUMNS = ", ".join(("case_id", *_KEPT))
_FROM_CASE = ", ".join(("id", *_KEPT))
_SET = ", ".join(f"{c} = NEW.{c}" for c in _KEPT)

_POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION case_search_added() RETURNS trigger AS $$
BEGIN
    INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_FROM_CASE} FROM added_cases;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION case_search_changed() RETURNS trigger AS $$
BEGIN
    UPDATE {TABLE} SET {_SET} WHERE case_id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER case_search_insert AFTER INSERT ON "case" REFERENCING NEW TABLE AS added_cases '
    "FOR EACH STATEMENT EXECUTE FUNCTION case_search_added()",
    f'CREATE TRIGGER case_search_update AFTER UPDATE OF {", ".join(_KEPT)} ON "case" FOR EACH ROW '
    f"WHEN ({' OR '.join(f'OLD.{c} IS DISTINCT FROM NEW.{c}' for c in _KEPT)}) "
    "EXECUTE FUNCTION case_search_changed()",
]
_SQLITE = [
    f'CREATE TRIGGER case_search_insert AFTER INSERT ON "case" BEGIN '
    f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join(f'NEW.{c}' for c in ('id', *_KEPT))}); END",
    f'CREATE TRIGGER case_search_update AFTER UPDATE OF {", ".join(_KEPT)} ON "case" BEGIN '
    f"UPDATE {TABLE} SET {_SET} WHERE case_id = NEW.id; END",
]
TRIGGERS: dict[str, list[str]] = {"postgresql": _POSTGRESQL, "sqlite": _SQLITE}
DROP: dict[str, list[str]] = {
    "postgresql": ["DROP FUNCTION IF EXISTS case_search_added() CASCADE",
                   "DROP FUNCTION IF EXISTS case_search_changed() CASCADE"],
    "sqlite": ["DROP TRIGGER IF EXISTS case_search_insert", "DROP TRIGGER IF EXISTS case_search_update"],
}

for _dialect, _statements in TRIGGERS.items():
    for _statement in _statements:
        # After every table exists (create_all: tests, the benchmark's fallback); the migration runs the same text.
        event.listen(SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))

# A nightly rewrite waits this long for the searches in progress, then gives up until the next night:
# waiting longer would hold every new search behind it.
CLUSTER_LOCK_TIMEOUT = "5s"
# PostgreSQL's lock_not_available: the lock timeout ran out (told by its code: the message may be in Chinese).
LOCK_NOT_AVAILABLE = "55P03"


def cluster(conn: Connection) -> bool:
    """Rewrite the table in enterprise-name order (PostgreSQL; SQLite needs no order: False).

    Holds the table for the rewrite (a few seconds at a million cases), so it runs at night
    (workers/tasks/search.py).  Idempotent: the order is the index's, whenever it runs."""
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(text(f"SET LOCAL lock_timeout = '{CLUSTER_LOCK_TIMEOUT}'"))
    conn.execute(text(f"CLUSTER {TABLE} USING {ORDER_INDEX}"))
    conn.execute(text(f"ANALYZE {TABLE}"))
    return True
