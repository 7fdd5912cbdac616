from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, Index, LargeBinary, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the worker died mid-send: an admin resends or discards
    DISCARDED = "discarded"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=64)
    recipient_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(sa_type=Text)
    state: OutboxState = enum_field(OutboxState, OutboxState.PENDING)
    attempts: int = 0
    next_attempt_at: datetime = utc_field()
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = utc_field()
    claimed_at: datetime | None = utc_field(nullable=True, default=None)
    sent_at: datetime | None = utc_field(nullable=True, default=None)
    # How many `outbox_attachment` rows the message carries: the relay loads them only when
    # this says so, so the reminder digests (none) cost no extra query.
    attachment_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class OutboxAttachment(SQLModel, table=True):
    """A file sent with an outbox message (the weekly report's DOCX and XLSX).

    Written with its message in the same transaction and never changed: a resend
    (an admin's, after "unknown") carries exactly the same bytes.
    """

    __tablename__ = "outbox_attachment"
    __table_args__ = (UniqueConstraint("message_id", "position", name="uq_outbox_attachment_position"),)

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True)
    position: int
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=120)
    content: bytes = Field(sa_type=LargeBinary)


# A digest is tens of kilobytes of mostly Chinese HTML, and a reminder pass writes
# thousands at once: lz4 compresses them several times faster than PostgreSQL's
# default (pglz).  Servers built without lz4 keep the default.
LZ4_BODIES_SQL = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE outbox_message ALTER COLUMN body_text SET COMPRESSION lz4,
                                   ALTER COLUMN body_html SET COMPRESSION lz4;
    END IF;
END
$$
"""
LZ4_BODIES = DDL(LZ4_BODIES_SQL)
event.listen(OutboxMessage.__table__, "after_create", LZ4_BODIES.execute_if(dialect="postgresql"))  # type: ignore[attr-defined]
