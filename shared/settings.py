"""One settings object for the API, the CLI and the workers (environment or `.env`).

Reading settings never needs the secret: read-only commands (`gongzhi due`,
`gongzhi calendar show`) run without one.  What signs cookies and forms (the
API, `gongzhi up`) calls `require_secret()` at start-up, which refuses with
one line naming the variable.

Every port the product opens is a setting: the API's (`GONGZHI_PORT`) and the
local mail catcher's (`GONGZHI_MAILCATCHER_PORT`, by default the API's + 25,
so 8025 beside 8000 and 8026 beside 8001: two copies run side by side).  The
default `GONGZHI_SMTP_URL` points at that catcher.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "gongzhi-demo-secret-key-change-me"
MAILCATCHER_PORT_OFFSET = 25  # 8000 → 8025, the port mail catchers traditionally use


class StartupRefused(SystemExit):
    """A start-up that cannot go on: Python prints the one-line message and exits 1, no traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGZHI_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""
    broker_url: str = ""
    smtp_url: str = ""  # default: the local mail catcher, smtp://127.0.0.1:<mailcatcher_port>
    mail_from: str = "共治协同平台 <noreply@gongzhi.local>"
    secret_key: str = DEMO_SECRET_KEY
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    mailcatcher_port: int = Field(default=0, ge=0, le=65535)  # 0: port + 25
    base_url: str = ""
    close_of_business: time = time(17, 30)
    working_hours_start: time = time(8, 30)
    max_upload_bytes: int = 20 * 1024 * 1024
    token_ttl_hours: int = 12
    # The API's PostgreSQL statements are cancelled after this long (0: never), so a page
    # whose browser went away stops costing the database (shared/db.make_engine).
    statement_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    # Ordinary requests one server process lets into the application at once; more wait
    # their turn (services/api/admission.py; 0: no limit).  Exports and uploads take no place.
    concurrent_requests: int = Field(default=4, ge=0, le=1000)
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
    reminder_signoff_after_working_days: int = Field(default=1, ge=1, le=20)  # feedback awaiting 审签
    # The weekly summary (DESIGN §8): the league table's floors, and when it goes out.
    report_red_below: float = Field(default=0.80, ge=0, le=1)  # on-time feedback rate under this is red
    report_yellow_below: float = Field(default=0.90, ge=0, le=1)  # ... and under this yellow
    report_red_overdue_working_days: int = Field(default=3, ge=1, le=60)  # anything overdue longer is red
    # Monday (or the first working day after a holiday Monday) at this local time.
    report_send_at: time = time(8, 0)
    # The artefacts of many sections are rendered in worker processes (0: one per CPU), when
    # they hold at least this many rows between them; a small week renders in the job's own process.
    report_render_processes: int = Field(default=0, ge=0, le=64)
    report_render_parallel_rows: int = Field(default=20_000, ge=0)

    @model_validator(mode="after")
    def _defaults_and_secret(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'gongzhi.db').resolve()}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        if not self.mailcatcher_port:
            self.mailcatcher_port = self.port + MAILCATCHER_PORT_OFFSET
            if self.mailcatcher_port > 65535:
                raise ValueError("GONGZHI_PORT + 25 is no port; set GONGZHI_MAILCATCHER_PORT")
        if not self.smtp_url:
            self.smtp_url = f"smtp://127.0.0.1:{self.mailcatcher_port}"
        if self.reminder_escalate_after_working_days <= self.reminder_urge_after_working_days:
            raise ValueError(
                "GONGZHI_REMINDER_ESCALATE_AFTER_WORKING_DAYS must be greater than "
                "GONGZHI_REMINDER_URGE_AFTER_WORKING_DAYS: 督办 comes after 催办"
            )
        if self.report_yellow_below < self.report_red_below:
            raise ValueError("GONGZHI_REPORT_YELLOW_BELOW must not be below GONGZHI_REPORT_RED_BELOW")
        return self

    def require_secret(self) -> None:
        """For what signs cookies and forms: outside demo mode the demo secret is refused."""
        if not self.demo and self.secret_key == DEMO_SECRET_KEY:
            raise StartupRefused(
                "GONGZHI_SECRET_KEY 未设置：请设置一个随机密钥（试用可设 GONGZHI_DEMO=1）/ "
                "GONGZHI_SECRET_KEY is not set: set a random secret (or GONGZHI_DEMO=1 to try things out)"
            )

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
    """The settings; a bad value refuses the start-up with one line per wrong variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise StartupRefused("\n".join(_one_line(error) for error in exc.errors())) from None


def _one_line(error: Any) -> str:
    field = "_".join(str(part) for part in error.get("loc", ()))
    name = f"GONGZHI_{field.upper()}" if field else "GONGZHI_*"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return message if message.startswith("GONGZHI_") else f"{name}: {message}"
