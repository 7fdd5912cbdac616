"""Used one-time form tokens (see shared/forms/service.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.columns import utc_field


class FormTokenUse(SQLModel, table=True):
    """A page form that has acted: its token's nonce may never act again."""

    __tablename__ = "form_token_use"
    __table_args__ = (Index("ix_form_token_use_user_used", "user_id", "used_at"),)

    nonce: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user.id")
    used_at: datetime = utc_field()
    # What was posted (sha256 of the fields), to tell a replay from an edited resubmission.
    body_sha256: str = Field(default="", max_length=64)
    # Where the action led; a replay of the form is sent there.
    result_path: str | None = Field(default=None, max_length=300)
