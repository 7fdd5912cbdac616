from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from shared.columns import utc_field


class Campaign(SQLModel, table=True):
    """专项行动"""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str = Field(default="", max_length=4000)
    starts_on: date
    ends_on: date
    lead_department_id: int | None = Field(default=None, foreign_key="department.id")
    created_at: datetime = utc_field()
    version: int = 1
