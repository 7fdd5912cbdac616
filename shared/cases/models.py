from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DDL, Index, event
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class CaseSource(StrEnum):
    HOTLINE_12315 = "hotline_12315"
    ONLINE_PLATFORM = "online_platform"
    INSPECTION = "inspection"
    MEDIA = "media"
    REFERRAL = "referral"
    OTHER = "other"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def trigram_index(name: str, column: str) -> Index:
    """A GIN trigram index for ILIKE '%fragment%' search, on PostgreSQL only (SQLite has no pg_trgm)."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}).ddl_if(
        dialect="postgresql")


# Created before the tables: the trigram indexes need its operator class.
TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
event.listen(SQLModel.metadata, "before_create", DDL(TRIGRAM_EXTENSION).execute_if(dialect="postgresql"))


class Case(SQLModel, table=True):
    """案件: a shared matter with an owner, a trail and a result."""

    __tablename__ = "case"
    __table_args__ = (
        Index("ix_case_lead_status", "lead_department_id", "status"),
        Index("ix_case_created_at", "created_at"),
        # A department's own cases newest first (shared.scope.visible_case_parts).
        Index("ix_case_lead_created", "lead_department_id", "created_at", "id"),
        Index("ix_case_closed_at", "closed_at"),
        # Search (shared/cases/queries.py): exact matches on the phone.  Fragments of title and name have
        # their trigram indexes on case_search (shared/cases/search_table.py): here the planner took them
        # for a small department's walk (a bitmap of 62,674 titles holding 培训机构 to keep 17 cases).
        Index("ix_case_complainant_phone", "complainant_phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=20000)
    source: CaseSource = enum_field(CaseSource, index=True)
    category: str = Field(max_length=64, index=True)
    region: str = Field(default="", max_length=100)
    enterprise_name: str | None = Field(default=None, max_length=200)
    enterprise_credit_code: str | None = Field(default=None, max_length=18, index=True)
    complainant_name: str | None = Field(default=None, max_length=100)
    complainant_phone: str | None = Field(default=None, max_length=32)
    complainant_id_number: str | None = Field(default=None, max_length=18)
    complainant_address: str | None = Field(default=None, max_length=300)
    priority: Priority = enum_field(Priority, Priority.NORMAL)
    status: CaseStatus = enum_field(CaseStatus, CaseStatus.OPEN)
    lead_department_id: int = Field(foreign_key="department.id")
    coordinator_id: int = Field(foreign_key="user.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    is_typical: bool = False
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    closed_at: datetime | None = utc_field(nullable=True, default=None)
    version: int = 1


class CaseShare(SQLModel, table=True):
    __tablename__ = "case_share"
    __table_args__ = (
        Index("ix_case_share_department", "department_id", "case_id"),
        # A department's shared cases newest first (shared.scope.visible_case_parts): a list or a
        # search walks them here and stops at a page, instead of reading every share it has.
        Index("ix_case_share_department_newest", "department_id", "case_created_at", "case_id"),
    )

    case_id: int = Field(foreign_key="case.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    shared_at: datetime = utc_field()
    case_created_at: datetime = utc_field()  # the case's created_at, which never changes: copied for the index


class CaseSequence(SQLModel, table=True):
    """Last reference number used per year; its row lock makes references gapless."""

    __tablename__ = "case_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_value: int = 0
