from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from shared.ids import DbId
from shared.inputs import Input
from shared.users.models import NotifyMode, Role

Language = Literal["zh-CN", "en"]


class UserPublic(BaseModel):
    version: int
    id: int
    username: str
    name: str
    email: str
    department_id: int
    role: Role
    language: str
    notify_mode: NotifyMode
    notify_opt_out: list[str]
    active: bool


class UserCreate(Input):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=100)
    email: EmailStr
    department_id: DbId
    role: Role
    password: str = Field(min_length=8, max_length=256)
    language: Language = "zh-CN"


class UserUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None
    department_id: DbId | None = None
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class PreferencesIn(Input):
    language: Language | None = None
    notify_mode: NotifyMode | None = None
    notify_opt_out: list[str] | None = Field(default=None, max_length=20)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)
