from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.columns import enum_field, utc_field


class Role(StrEnum):
    LIAISON = "liaison"  # 联络员
    HEAD = "head"  # 部门负责人
    COORDINATOR = "coordinator"  # 协调办
    LEADER = "leader"  # 领导
    ADMIN = "admin"  # 系统管理员


class NotifyMode(StrEnum):
    DIGEST = "digest"
    IMMEDIATE = "immediate"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    email: str = Field(max_length=254)
    department_id: int = Field(foreign_key="department.id", index=True)
    role: Role = enum_field(Role, index=True)
    password_hash: str = Field(max_length=255)
    language: str = Field(default="zh-CN", max_length=8)
    notify_mode: NotifyMode = enum_field(NotifyMode, NotifyMode.DIGEST)
    # Notification kinds this user opted out of; 督办 (escalation) cannot be.
    notify_opt_out: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = utc_field()
    version: int = 1


class AuthToken(SQLModel, table=True):
    """A bearer token (API) or session (cookie); only its sha256 is stored."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    revoked: bool = False


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt: the throttle's state, shared by every API replica (shared/users/throttle.py)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_account_client_at", "username", "client", "at"),
        Index("ix_login_attempt_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    client: str = Field(default="", max_length=64)  # the client's address as the API saw it
    at: datetime = utc_field()
    success: bool = False
