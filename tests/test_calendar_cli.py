"""`gongzhi due` and `gongzhi calendar seed|show|load` as an admin types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app

BIN = Path(sys.executable).parent / "gongzhi"


def run_gongzhi(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_")}
    env.update(GONGZHI_DEMO="1", GONGZHI_DATA_DIR=str(data_dir))
    command = [str(BIN)] if BIN.exists() else [sys.executable, "-c", "from services.cli import main; main()"]
    return subprocess.run(command + args, env=env, cwd=data_dir.parent, capture_output=True, text=True,
                          timeout=120, check=False)


# ------------------------------------------------------------ a fresh machine, for real


def test_due_on_a_fresh_database_prints_the_bare_timestamp(tmp_path: Path) -> None:
    result = run_gongzhi(["due", "--from", "2026-02-12T10:00", "--days", "5"], tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2026-02-26T17:30:00+08:00\n"
    assert "provisional" not in result.stderr


def test_due_into_an_unpublished_year_says_provisional_on_stderr(tmp_path: Path) -> None:
    result = run_gongzhi(["due", "--from", "2026-12-24T10:00", "--days", "10"], tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "2027-01-08T17:30:00+08:00"
    assert "(provisional)" in result.stderr


# ------------------------------------------------------------ against the test databases




def test_due_with_offset_and_days_zero(cli: CliRunner) -> None:
    r = cli.invoke(app, ["due", "--from", "2026-02-12T02:00:00+00:00", "--days", "5"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "2026-02-26T17:30:00+08:00\n"
    r = cli.invoke(app, ["due", "--from", "2026-09-30T09:00", "--days", "0"])
    assert r.stdout == "2026-09-30T17:30:00+08:00\n"


def test_due_refuses_garbage(cli: CliRunner) -> None:
    r = cli.invoke(app, ["due", "--from", "next tuesday", "--days", "5"])
    assert r.exit_code == 2
    r = cli.invoke(app, ["due", "--from", "2026-02-12T10:00", "--days", "-1"])
    assert r.exit_code == 2


def test_seed_then_show(cli: CliRunner) -> None:
    r = cli.invoke(app, ["calendar", "seed"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("seeded ") and "chinese-calendar" in r.stdout
    again = cli.invoke(app, ["calendar", "seed"])
    assert again.stdout.startswith("seeded 0 rows")

    r = cli.invoke(app, ["calendar", "show", "--year", "2026"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("2026: 官方安排 official — chinese-calendar") and "(database)" in lines[0]
    assert "2026-02-14 周六 班 workday 春节调休" in lines
    assert "2026-02-16 周一 休 holiday 春节" in lines
    assert "2026-10-10 周六 班 workday 国庆节调休" in lines


def test_show_a_provisional_year(cli: CliRunner) -> None:
    r = cli.invoke(app, ["calendar", "show", "--year", "2027"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("2027: 暂定 provisional")
    assert "2027-02-05 周五 休 holiday 春节" in r.stdout.splitlines()


def test_load_a_text_file_then_due_is_official(cli: CliRunner, tmp_path: Path) -> None:
    schedule = tmp_path / "2027.txt"
    schedule.write_text(
        "# 国务院办公厅关于2027年部分节假日安排的通知（测试用）\n"
        "2027-01-01 holiday 元旦\n"
        "2027-02-05 holiday 春节\n2027-02-08 holiday 春节\n2027-02-09 holiday 春节\n"
        "2027-02-10 holiday 春节\n2027-02-11 holiday 春节\n"
        "2027-02-13 holiday 春节   # a Saturday: accepted, not stored\n"
        "\n"
        "2027-02-20 workday 春节调休\n",
        encoding="utf-8",
    )
    r = cli.invoke(app, ["calendar", "load", str(schedule), "--year", "2027"])
    assert r.exit_code == 0, r.output
    assert "loaded 2027: 6 weekday holidays, 1 make-up working days" in r.stdout
    assert "recomputed 0 of 0 provisional assignments" in r.stdout

    r = cli.invoke(app, ["due", "--from", "2026-12-24T10:00", "--days", "10"])
    assert r.stdout == "2027-01-08T17:30:00+08:00\n"
    assert "provisional" not in r.stderr
    # 2/2, 2/3, 2/4, then 2/5–2/11 off, Fri 2/12 (4), Mon 2/15 (5).
    r = cli.invoke(app, ["due", "--from", "2027-02-01T10:00", "--days", "5"])
    assert r.stdout == "2027-02-15T17:30:00+08:00\n"

    r = cli.invoke(app, ["calendar", "show", "--year", "2027"])
    assert r.stdout.splitlines()[0] == "2027: 官方安排 official — admin (database)"


def test_load_json(cli: CliRunner, tmp_path: Path) -> None:
    schedule = tmp_path / "2027.json"
    schedule.write_text(json.dumps({
        "holidays": ["2027-01-01", {"date": "2027-02-05", "name": "春节"}],
        "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
    }, ensure_ascii=False), encoding="utf-8")
    r = cli.invoke(app, ["calendar", "load", str(schedule), "--year", "2027"])
    assert r.exit_code == 0, r.output
    assert "loaded 2027: 2 weekday holidays, 1 make-up working days" in r.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("2027-02-05 vacation 春节\n", "kind must be holiday or workday"),
        ("2027-02-31 holiday\n", "not a date"),
        ("2027-02-05\n", "expected 'DATE holiday|workday [name]'"),
        ('{"holidays": [5]}', "holidays[0]"),
    ],
)
def test_load_refuses_a_bad_file(cli: CliRunner, tmp_path: Path, content: str, message: str) -> None:
    schedule = tmp_path / "bad.txt"
    schedule.write_text(content, encoding="utf-8")
    r = cli.invoke(app, ["calendar", "load", str(schedule), "--year", "2027"])
    assert r.exit_code == 2
    assert message in r.output


def test_load_refuses_a_date_of_another_year(cli: CliRunner, tmp_path: Path) -> None:
    schedule = tmp_path / "2027.txt"
    schedule.write_text("2027-01-01 holiday 元旦\n2028-01-03 holiday 元旦\n", encoding="utf-8")
    r = cli.invoke(app, ["calendar", "load", str(schedule), "--year", "2027"])
    assert r.exit_code == 1
    assert "holidays.1" in r.stderr and "2028-01-03" in r.stderr
    assert cli.invoke(app, ["calendar", "show", "--year", "2027"]).stdout.startswith("2027: 暂定")


def test_load_help_documents_the_format(cli: CliRunner) -> None:
    r = cli.invoke(app, ["calendar", "load", "--help"])
    assert "2027-02-14 workday 春节调休" in r.stdout and '"holidays"' in r.stdout
