"""One settings object for the API, the CLI and the workers (environment or `.env`)."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "gongzhi-demo-secret-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGZHI_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""
    broker_url: str = ""
    smtp_url: str = "smtp://127.0.0.1:8025"
    mail_from: str = "共治协同平台 <noreply@gongzhi.local>"
    secret_key: str = DEMO_SECRET_KEY
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""
    close_of_business: time = time(17, 30)
    working_hours_start: time = time(8, 30)
    max_upload_bytes: int = 20 * 1024 * 1024
    token_ttl_hours: int = 12
    # Sign-in throttling (shared/users/throttle.py): failures in a row one address may make
    # on one account before each next try waits 1, 2, 4 … seconds (at most the window), and
    # failures one address may make across all accounts within the window.
    login_free_failures: int = Field(default=5, ge=1, le=100)
    login_client_budget: int = Field(default=20, ge=1, le=10000)
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Per case source, the default number of working days for feedback; a
    # coordinator overrides it per assignment.  JSON in the environment.
    deadline_templates: dict[str, int] = Field(
        default_factory=lambda: {
            "hotline_12315": 7,
            "online_platform": 7,
            "inspection": 10,
            "media": 5,
            "referral": 10,
            "other": 10,
        }
    )
    acceptance_working_days: int = Field(default=1, ge=1, le=20)
    # The reminder ladder (DESIGN §7), in working days.
    reminder_due_soon_working_days: int = Field(default=2, ge=1, le=20)  # 预警 window
    reminder_urge_after_working_days: int = Field(default=1, ge=1, le=60)  # 催办通知 to the head
    reminder_escalate_after_working_days: int = Field(default=3, ge=1, le=60)  # 督办 to the coordinator
    reminder_decision_after_working_days: int = Field(default=1, ge=1, le=20)  # pending decisions

    @model_validator(mode="after")
    def _defaults_and_secret(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'gongzhi.db').resolve()}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        if self.reminder_escalate_after_working_days <= self.reminder_urge_after_working_days:
            raise ValueError(
                "GONGZHI_REMINDER_ESCALATE_AFTER_WORKING_DAYS must be greater than "
                "GONGZHI_REMINDER_URGE_AFTER_WORKING_DAYS: 督办 comes after 催办"
            )
        if not self.demo and self.secret_key == DEMO_SECRET_KEY:
            raise ValueError(
                "GONGZHI_SECRET_KEY is still the demo default; set a secret or GONGZHI_DEMO=1"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "attachments"


@lru_cache
def get_settings() -> Settings:
    return Settings()
