from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.callbacks.models import Satisfaction
from shared.ids import DbId
from shared.inputs import Input


class CallbackIn(Input):
    assignment_id: DbId | None = Field(
        default=None,
        description="回访针对的已办结任务；缺省为主办部门最近办结的任务，没有则为本案最近办结的任务",
    )
    reached: bool = Field(strict=True, description="是否联系上投诉人")
    attempts: int = Field(default=1, ge=1, le=20, description="拨打/联系次数")
    satisfaction: Satisfaction | None = Field(default=None, description="联系上时必填；未联系上时不得填写")
    resolved: bool | None = Field(default=None, strict=True, description="问题是否解决；联系上时必填")
    note: str = Field(default="", max_length=2000)


class ReworkIn(Input):
    reason: str = Field(min_length=1, max_length=2000, description="重办理由，发给承办部门")
    assignment_id: DbId | None = Field(default=None, description="退回重办的已办结任务；缺省为回访针对的任务")
    working_days: int | None = Field(default=None, ge=1, le=120,
                                     description="新的反馈时限（工作日，从现在起算）；缺省沿用该任务原时限")


class CallbackPublic(BaseModel):
    id: int
    case_id: int
    assignment_id: int
    department_id: int
    made_by: int
    made_at: datetime
    reached: bool
    attempts: int
    satisfaction: Satisfaction | None
    resolved: bool | None
    note: str
    reworked_at: datetime | None
    reworked_by: int | None
    rework_assignment_id: int | None
    version: int
    reworkable: bool = Field(description="不满意且未解决、尚未重办：协调人可一步重开案件并退回重办")
