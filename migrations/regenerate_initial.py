"""Regenerate the initial migration from the models (before the first release only).

    .venv/bin/python -m migrations.regenerate_initial

Autogenerate cannot see the append-only triggers on `event` and `audit_log`, the
queue stamp and case_search triggers or the lz4 compression of the outbox bodies, so they
are added here.
Once a release has shipped, write new revisions instead of running this.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from alembic import command

import shared.models  # noqa: F401  (every table, so every append-only one is registered)
from shared import append_only, invalidation
from shared.cases import search_table
from shared.cases.models import TRIGRAM_EXTENSION
from shared.departments.models import QUEUE_STAMP_DROP, QUEUE_STAMP_TRIGGERS
from shared.migrate import MIGRATIONS, alembic_config, dialect_only_ddl
from shared.outbox.models import LZ4_BODIES_SQL

# Autogenerate cannot see column compression either: the same statement as the model's.
LZ4_BODIES = f'''
    if op.get_bind().dialect.name == "postgresql":
        # Digests are large and written by the thousand: lz4 where the server has it.
        op.execute(
            """{textwrap.indent(LZ4_BODIES_SQL.rstrip(), " " * 12)}
            """
        )
'''

def _per_dialect(statements: dict[str, list[str]], comment: str) -> str:
    """op.execute of each dialect's statements, the models' own text written out."""
    lines = [f"    # {comment}"]
    for dialect, sqls in statements.items():
        lines.append(f"    if op.get_bind().dialect.name == {dialect!r}:")
        lines += [f"        op.execute({sql.strip()!r})" for sql in sqls]
    return "\n".join(lines) + "\n"


QUEUE_STAMPS = _per_dialect(QUEUE_STAMP_TRIGGERS, "Every write a queue shows bumps its department's stamp "
                                                  "(shared.departments.models.QueueStamp).")
DROP_QUEUE_STAMPS = _per_dialect(QUEUE_STAMP_DROP, "The queue stamp triggers.")
KEPT = _per_dialect(invalidation.TRIGGERS, "Every write to what a kept queue or sign-in was read from notifies "
                                           "the API processes (shared.invalidation).")
DROP_KEPT = _per_dialect(invalidation.DROP, "The kept-copy notification triggers.")
CASE_SEARCH = _per_dialect(search_table.TRIGGERS, "Every write to a case keeps its case_search row in step "
                                                  "(shared.cases.search_table).")
DROP_CASE_SEARCH = _per_dialect(search_table.DROP, "The case_search triggers.")
TRIGGER = _per_dialect({"postgresql": [sql for t in append_only.TABLES for sql in append_only.statements(t)]},
                       "The audit trails are append-only even for the application's own database user.")
DROP_TRIGGER = _per_dialect({"postgresql": [sql for t in append_only.TABLES for sql in append_only.drop_statements(t)]},
                            "The append-only triggers.")
# Indexes the models create on PostgreSQL only (the search's trigram indexes), after the extension they need.
PG_ONLY_INDEXES = _per_dialect({"postgresql": [TRIGRAM_EXTENSION, *dialect_only_ddl("postgresql")]},
                               "Search: trigram indexes for fragments of titles and enterprise names "
                               "(shared.cases.models).")


def main() -> None:
    versions = MIGRATIONS / "versions"
    for old in versions.glob("*_initial_schema.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        config = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
    [path] = versions.glob("*_initial_schema.py")
    text = path.read_text()
    marker = "    # ### end Alembic commands ###"
    upgrade_end = text.index(marker)
    added = TRIGGER + LZ4_BODIES + QUEUE_STAMPS + KEPT + CASE_SEARCH + PG_ONLY_INDEXES
    text = text[:upgrade_end] + marker + "\n" + added + text[upgrade_end + len(marker) + 1:]
    downgrade_start = text.index('"""Downgrade schema."""')
    body_start = text.index("\n", downgrade_start) + 1
    text = text[:body_start] + DROP_TRIGGER + DROP_QUEUE_STAMPS + DROP_KEPT + DROP_CASE_SEARCH + text[body_start:]
    path.write_text(text)
    print(f"wrote {path.relative_to(MIGRATIONS.parent)}")


if __name__ == "__main__":
    main()
