from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.columns import utc_field


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a creating request sent with an Idempotency-Key, kept 24 hours.

    Written in the transaction of the change it answers: the row exists exactly
    when the change does.  `status_code` is null only inside that transaction.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=1000)
    fingerprint: str = Field(max_length=64, description="sha256 of the request body, hex")
    status_code: int | None = None
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    body: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = utc_field(index=True)
