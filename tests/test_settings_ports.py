"""Two copies side by side: every port the product opens follows the settings."""

from __future__ import annotations

import pytest

from services.cli.processes import api_command, mailcatcher_target
from shared.settings import Settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GONGZHI_PORT", "GONGZHI_MAILCATCHER_PORT", "GONGZHI_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)


def test_two_app_ports_give_two_mail_catchers_and_smtp_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGZHI_PORT", "8000")
    first = Settings(demo=True)
    monkeypatch.setenv("GONGZHI_PORT", "8001")
    second = Settings(demo=True)
    assert (first.mailcatcher_port, second.mailcatcher_port) == (8025, 8026)
    assert (first.smtp_url, second.smtp_url) == ("smtp://127.0.0.1:8025", "smtp://127.0.0.1:8026")
    assert mailcatcher_target(first) == ("127.0.0.1", 8025)
    assert mailcatcher_target(second) == ("127.0.0.1", 8026)
    assert api_command(first)[-1] == "8000" and api_command(second)[-1] == "8001"


def test_the_catcher_port_can_be_set_and_mail_follows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGZHI_MAILCATCHER_PORT", "2525")
    settings = Settings(demo=True)
    assert settings.smtp_url == "smtp://127.0.0.1:2525"
    assert mailcatcher_target(settings) == ("127.0.0.1", 2525)


def test_a_real_mail_server_runs_no_catcher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGZHI_SMTP_URL", "smtp+starttls://u:p@mail.gov.example:587")
    settings = Settings(demo=True)
    assert mailcatcher_target(settings) is None
    assert settings.mailcatcher_port == 8025  # still a setting: `gongzhi mailcatcher` uses it
