"""Append-only tables: the timeline (event) and the personal-data reads (audit_log).

On PostgreSQL a trigger refuses UPDATE and DELETE on them, even for the
application's own database user.  The statements are written once, here: the
models install them when their table is created, and
migrations/regenerate_initial.py writes the same text into the migration.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

TABLES: list[str] = []


def statements(table: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$\n"
        f"BEGIN\n    RAISE EXCEPTION '{table} is append-only: % refused', TG_OP;\nEND;\n$$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


def drop_statements(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", f"DROP FUNCTION IF EXISTS {table}_append_only()"]


def make_append_only(table: Table) -> None:
    TABLES.append(table.name)
    for sql in statements(table.name):
        # DDL formats with %: the literal one in the message is doubled.
        event.listen(table, "after_create", DDL(sql.replace("%", "%%")).execute_if(dialect="postgresql"))
