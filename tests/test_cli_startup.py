"""Start-up as an admin meets it: read-only commands need no secret; a refused start is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "gongzhi"
SECRET_LINE = "GONGZHI_SECRET_KEY"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No GONGZHI_* from the developer's shell, no .env in the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_")}
    env.update(GONGZHI_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def run(command: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=clean_env(tmp_path, **extra), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("args", [
    ["due", "--from", "2026-02-12T10:00", "--days", "5"],
    ["calendar", "show", "--year", "2026"],
    ["outbox", "list"],
])
def test_read_only_commands_run_without_a_secret_or_demo_mode(tmp_path: Path, args: list[str]) -> None:
    assert run([str(BIN), "db", "upgrade"], tmp_path).returncode == 0
    result = run([str(BIN), *args], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_up_without_a_secret_refuses_in_one_line(tmp_path: Path) -> None:
    result = run([str(BIN), "up"], tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and SECRET_LINE in lines[0], result.stderr
    assert not (tmp_path / "data" / "gongzhi.db").exists()  # refused before touching anything


def test_the_api_without_a_secret_refuses_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app", "--port", "0"]
    result = run(command, tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if SECRET_LINE in line] == [result.stderr.strip()
                                                                                   .splitlines()[-1]]
    assert sum(SECRET_LINE in line for line in result.stderr.splitlines()) == 1


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run([str(BIN), "due", "--from", "2026-02-12T10:00", "--days", "5"], tmp_path, GONGZHI_PORT="eighty")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("GONGZHI_PORT:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
