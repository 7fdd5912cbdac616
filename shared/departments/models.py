from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class DepartmentKind(StrEnum):
    """部门类别"""

    MARKET_REGULATION = "market_regulation"
    CONSUMER_ASSOCIATION = "consumer_association"
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    COMMERCE = "commerce"
    CULTURE_TOURISM = "culture_tourism"
    EDUCATION = "education"
    SPORTS = "sports"
    HOUSING = "housing"
    OTHER = "other"


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    kind: DepartmentKind = enum_field(DepartmentKind, DepartmentKind.OTHER)
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: datetime = utc_field()
    version: int = 1


class QueueStamp(SQLModel, table=True):
    """How often a department's queue changed: bumped in the transaction of every change it shows.

    A process that keeps a department's queue in memory compares this number on
    every read (see shared.assignments.queue_stamps and queue_cache).  A
    department without a row has never changed: it reads as 0.
    """

    __tablename__ = "queue_stamp"

    department_id: int = Field(primary_key=True, foreign_key="department.id",
                               sa_column_kwargs={"autoincrement": False})
    generation: int = 0
