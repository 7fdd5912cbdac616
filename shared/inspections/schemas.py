from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.ids import DbId
from shared.inputs import Input
from shared.inspections.models import InspectionStatus


class InspectionCreate(Input):
    case_id: DbId
    campaign_id: DbId | None = None
    title: str = Field(min_length=1, max_length=200)
    lead_department_id: DbId
    participant_department_ids: list[DbId] = Field(default_factory=list, max_length=50)
    scheduled_on: date = Field(description="检查日期（上海时间）；不得早于今天，除非 recorded_after_fact")
    place: str = Field(default="", max_length=300)
    targets: str = Field(default="", max_length=4000)
    instructions: str = Field(default="", max_length=4000)
    working_days: int | None = Field(default=None, ge=1, le=120, description="各参与部门反馈时限（工作日）")
    recorded_after_fact: bool = Field(
        default=False,
        description="补录：检查已经进行过（scheduled_on 为今天或以前），须同时填写 record。"
                    " Recorded after the fact: the inspection already took place; record is then required.",
    )
    record: str = Field(default="", max_length=20000, description="检查记录（补录时必填）")


class InspectionUpdate(Input):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    scheduled_on: date | None = None
    place: str | None = Field(default=None, max_length=300)
    targets: str | None = Field(default=None, max_length=4000)
    record: str | None = Field(default=None, max_length=20000)


class InspectionPublic(BaseModel):
    id: int
    case_id: int | None
    campaign_id: int | None
    lead_department_id: DbId
    participant_department_ids: list[DbId]
    assignment_ids: list[int]
    title: str
    scheduled_on: date
    place: str
    targets: str
    status: InspectionStatus
    record: str
    close_reason: str | None
    created_by: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    version: int
