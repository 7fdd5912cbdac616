"""The outbox list as an Excel workbook: the messages `/admin/outbox` lists, admins only.

``export_outbox`` reads through shared.outbox.admin.list_messages, the page's own
query (which refuses anyone but an admin), for each state the page shows —
one chosen state, or the undecided ones (unknown, failed) — newest first,
from the newest on rather than the page the admin was on.  Bounded at the case
export's cap with a note when cut.  Subjects and addresses, as the page shows
them; never a body.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from shared.actors import Actor
from shared.cases import export as case_export
from shared.i18n import N_, message, normalise_language
from shared.outbox.admin import list_messages
from shared.outbox.models import OutboxMessage, OutboxState
from shared.reports.render.xlsx import Column, Fmt, table_workbook
from shared.users.models import User

COLUMNS = (
    Column(N_("page.admin.outbox.id"), Fmt.INT), Column(N_("page.col.state")),
    Column(N_("page.admin.outbox.created"), Fmt.TIME), Column(N_("page.admin.outbox.to")),
    Column(N_("page.admin.users.email")), Column(N_("page.admin.outbox.subject")),
    Column(N_("page.admin.outbox.attempts"), Fmt.INT), Column(N_("page.admin.outbox.last_error")),
)


def export_outbox(session: Session, actor: Actor, states: Sequence[OutboxState], *, language: str,
                  timezone: str) -> bytes:
    lang = normalise_language(language)
    limit = case_export.EXPORT_LIMIT
    found: list[OutboxMessage] = []
    for state in states:
        found += list_messages(session, actor, state=state, limit=limit + 1)
    more, found = len(found) > limit, found[:limit]
    recipients = {m.recipient_user_id for m in found if m.recipient_user_id is not None}
    people = dict(session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(recipients)))
                  .tuples().all()) if recipients else {}
    rows = [[m.id, message(f"page.admin.outbox.state.{OutboxState(m.state).value}", lang), m.created_at,
             people.get(m.recipient_user_id) if m.recipient_user_id else None, m.to_address, m.subject,
             m.attempts, m.last_error] for m in found]
    notes = [message("export.truncated_outbox", lang, n=limit)] if more else []
    return table_workbook(N_("page.admin.section.outbox"), COLUMNS, rows, language=lang, notes=notes,
                          timezone=timezone)
