from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.inputs import Input
from shared.supervision.models import UrgeKind


class UrgeIn(Input):
    note: str | None = Field(default=None, max_length=500, description="催办/督办意见（可选），随通知发给部门")


class UrgePublic(BaseModel):
    id: int
    assignment_id: int
    case_id: int
    department_id: int
    kind: UrgeKind
    at: datetime
    by: int
    note: str
