from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class InspectionStatus(StrEnum):
    PLANNED = "planned"
    DONE = "done"
    CANCELLED = "cancelled"


class Inspection(SQLModel, table=True):
    """联合检查: each participating department gets its own assignment."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    lead_department_id: int = Field(foreign_key="department.id", index=True)
    title: str = Field(max_length=200)
    scheduled_on: date = Field(index=True)
    place: str = Field(default="", max_length=300)
    targets: str = Field(default="", max_length=4000)
    status: InspectionStatus = enum_field(InspectionStatus, InspectionStatus.PLANNED)
    record: str = Field(default="", max_length=20000)
    close_reason: str | None = Field(default=None, max_length=2000)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    completed_at: datetime | None = utc_field(nullable=True, default=None, index=True)
    version: int = 1


class InspectionParticipant(SQLModel, table=True):
    __tablename__ = "inspection_participant"

    inspection_id: int = Field(foreign_key="inspection.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
