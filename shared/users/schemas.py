from __future__ import annotations

from pydantic import BaseModel

from shared.users.models import NotifyMode, Role


class UserPublic(BaseModel):
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
