from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from shared.columns import utc_field


class ReminderNotice(SQLModel, table=True):
    """One thing one person, or one department's liaisons or heads, must be told about one assignment.

    A notice goes to a person (``recipient_id``: events, the coordinator's
    reminders, an accepted assignment's owner) or to a group (``department_id``
    and ``audience``: 催签 and the deadline stages of work nobody owns yet go to
    all the department's liaisons, 催办 to its heads).  A group notice is one
    row however many people the group has, and is shown to each member in his
    digest of the pass that wrote it.

    The unique ``key`` (stable ids and the local date) makes each notice happen
    at most once, however many passes, workers or beats run.  ``digest_key`` is
    the outbox key of the email that carried a personal notice, or the pass
    that carried a group notice; NULL means a personal notice waits for the
    recipient's next digest (the next reminder pass in working hours).
    """

    __tablename__ = "reminder_notice"
    __table_args__ = (
        # Only the waiting notices are indexed: the pass claims them every ten minutes.
        Index(
            "ix_reminder_notice_waiting", "recipient_id",
            postgresql_where=text("digest_key IS NULL"), sqlite_where=text("digest_key IS NULL"),
        ),
        Index("ix_reminder_notice_assignment", "assignment_id"),
        Index("ix_reminder_notice_local_date", "local_date"),
        CheckConstraint("(recipient_id IS NULL) <> (department_id IS NULL)",
                        name="ck_reminder_notice_one_addressee"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    recipient_id: int | None = Field(default=None, foreign_key="user.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    audience: str | None = Field(default=None, max_length=16)  # rules.Audience, with department_id
    assignment_id: int = Field(foreign_key="assignment.id")
    local_date: date
    created_at: datetime = utc_field()
    # Facts at the time of the notice (overdue days, reason, actor name …) for the email.
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    digest_key: str | None = Field(default=None, max_length=200)
