from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from shared.cases.credit_code import is_valid_credit_code
from shared.cases.models import CaseSource, CaseStatus, Priority
from shared.i18n import N_
from shared.ids import DbId
from shared.inputs import Input

PHONE_PATTERN = r"^[0-9+\- ]{3,20}$"
ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"


class _CaseFields(Input):
    @field_validator("enterprise_credit_code", check_fields=False)
    @classmethod
    def _credit_code(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        value = value.strip().upper()
        if not is_valid_credit_code(value):
            raise ValueError(N_("credit_code_invalid"))
        return value


class CaseCreate(_CaseFields):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    source: CaseSource
    category: str = Field(min_length=1, max_length=64)
    region: str = Field(default="", max_length=100)
    priority: Priority = Priority.NORMAL
    enterprise_name: str | None = Field(default=None, max_length=200)
    enterprise_credit_code: str | None = Field(default=None, max_length=18)
    complainant_name: str | None = Field(default=None, max_length=100)
    complainant_phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    complainant_id_number: str | None = Field(default=None, pattern=ID_NUMBER_PATTERN)
    complainant_address: str | None = Field(default=None, max_length=300)
    lead_department_id: DbId | None = Field(default=None, description="默认为开案人所在部门")
    shared_with: list[DbId] = Field(default_factory=list, max_length=100)
    campaign_id: DbId | None = None


class CaseUpdate(_CaseFields):
    """Only the fields sent are changed."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    region: str | None = Field(default=None, max_length=100)
    priority: Priority | None = None
    enterprise_name: str | None = Field(default=None, max_length=200)
    enterprise_credit_code: str | None = Field(default=None, max_length=18)
    complainant_name: str | None = Field(default=None, max_length=100)
    complainant_phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    complainant_id_number: str | None = Field(default=None, pattern=ID_NUMBER_PATTERN)
    complainant_address: str | None = Field(default=None, max_length=300)
    campaign_id: DbId | None = None
    is_typical: bool | None = None


class ShareIn(Input):
    department_ids: list[DbId] = Field(min_length=1, max_length=100)


class ReasonIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class CommentIn(Input):
    text: str = Field(min_length=1, max_length=4000)


class Complainant(BaseModel):
    name: str | None
    phone: str | None
    id_number: str | None
    address: str | None
    masked: bool


class CaseSummary(BaseModel):
    id: int
    reference: str
    title: str
    source: CaseSource
    category: str
    region: str
    priority: Priority
    status: CaseStatus
    enterprise_name: str | None
    enterprise_credit_code: str | None
    lead_department_id: int
    coordinator_id: int
    campaign_id: int | None
    is_typical: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


class CasePublic(CaseSummary):
    description: str
    complainant: Complainant
    shared_with: list[int]
    open_assignments: int


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None


class EventPublic(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    object_type: str
    object_id: int
    action: str
    before: dict[str, object] | None
    after: dict[str, object] | None


class EventPage(BaseModel):
    items: list[EventPublic] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as `cursor` for the older entries; null at the oldest")
