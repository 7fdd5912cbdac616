from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class OwnerKind(StrEnum):
    CASE = "case"
    FEEDBACK = "feedback"
    INSPECTION = "inspection"


class Attachment(SQLModel, table=True):
    __table_args__ = (Index("ix_attachment_owner", "owner_kind", "owner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_kind: OwnerKind = enum_field(OwnerKind)
    owner_id: int
    # Visibility follows the case the file belongs to.
    case_id: int = Field(foreign_key="case.id", index=True)
    file_name: str = Field(max_length=255)
    media_type: str = Field(max_length=127)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=128, unique=True)
    uploaded_by: int = Field(foreign_key="user.id")
    uploaded_at: datetime = utc_field()


class AttachmentPublic(SQLModel):
    """What the API shows of an attachment (never where it lies on disk)."""

    id: int
    owner_kind: OwnerKind
    owner_id: int
    case_id: int
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: int
    uploaded_at: datetime
    download_url: str


class AttachmentList(SQLModel):
    items: list[AttachmentPublic]
