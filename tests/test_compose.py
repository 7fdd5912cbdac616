"""compose.yaml, as Debian's `docker-compose config` renders it (no container engine runs here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.outbox.smtp import SmtpConfig
from shared.settings import Settings
from tests.conftest import missing_service
from workers.app import make_app

REPO = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "api", "worker", "beat")
REQUIRED = {"POSTGRES_PASSWORD": "pg-secret", "GONGZHI_SECRET_KEY": "a-long-random-secret"}


def render(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        missing_service("docker-compose is not installed (apt-get install docker-compose)")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    # Only what is given here: no GONGZHI_* of the test process, no developer's .env.
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    return subprocess.run([str(binary), "--env-file", str(empty), "-f", str(REPO / "compose.yaml"), "config"],
                          cwd=REPO, env=clean, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = render(tmp_path_factory.mktemp("compose"), **REQUIRED)
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def test_the_services_of_a_production_install(config):
    assert set(config["services"]) == {"postgres", "redis", "migrate", "api", "proxy", "worker", "beat", "mailpit"}


def test_beat_exactly_one_worker_and_api_scale_freely(config):
    services = config["services"]
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("worker", "api"):
        s = services[name]
        assert "replicas" not in s.get("deploy", {}), f"{name}: the replica count is the operator's choice"
        assert "container_name" not in s and "ports" not in s, f"{name}: a second replica must not clash"
    # One published port, in front of however many api replicas there are.
    assert services["proxy"]["ports"] == [{"published": 8000, "target": 8000}]
    assert services["proxy"]["command"][-2:] == ["--to", "api:8000"]


def test_postgres_keeps_the_case_search_in_memory(config):
    command = config["services"]["postgres"]["command"]
    assert command[0] == "postgres" and "shared_buffers=1GB" in command


def test_health_checks_and_startup_order(config):
    services = config["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "/api/v1/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])

    migrate = services["migrate"]
    assert migrate["command"] == ["gongzhi", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_configuration_only_through_the_environment(config):
    services = config["services"]
    envs = [services[name]["environment"] for name in APP_SERVICES]
    assert all(env == envs[0] for env in envs), "every process sees the same configuration"
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1, "one image"
    env = envs[0]
    assert env["GONGZHI_DATABASE_URL"] == "postgresql://gongzhi:pg-secret@postgres:5432/gongzhi"
    assert env["GONGZHI_BROKER_URL"] == "redis://redis:6379/0"
    assert env["GONGZHI_SECRET_KEY"] == "a-long-random-secret"
    for name, service in services.items():
        assert "env_file" not in service, f"{name}: configuration comes from the environment only"
        for volume in service.get("volumes", []):
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            assert not str(source).startswith(("/", ".")), f"{name}: no configuration file mounted ({volume})"

    # What the containers receive is a configuration the application accepts.
    settings = Settings(**{k.removeprefix("GONGZHI_").lower(): v for k, v in env.items()})
    assert settings.database_url.startswith("postgresql://") and not settings.demo
    assert SmtpConfig.from_url(settings.smtp_url).host == "mailpit"
    celery = make_app(settings)
    assert celery.conf.broker_url == "redis://redis:6379/0" and celery.conf.task_acks_late


def test_secrets_are_required_not_defaulted(tmp_path):
    for missing in REQUIRED:
        env = {k: v for k, v in REQUIRED.items() if k != missing}
        result = render(tmp_path, **env)
        assert result.returncode != 0
        assert f"set {missing}" in result.stderr


def test_other_machines_and_a_real_mail_server_are_reached_through_variables(tmp_path):
    result = render(tmp_path, **REQUIRED, POSTGRES_HOST="10.0.0.5", REDIS_HOST="10.0.0.5",
                    GONGZHI_SMTP_URL="smtp+starttls://gongzhi%40example.gov.cn:pw@smtp.example.gov.cn:587",
                    GONGZHI_WORKER_CONCURRENCY="8")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    env = services["worker"]["environment"]
    assert env["GONGZHI_DATABASE_URL"] == "postgresql://gongzhi:pg-secret@10.0.0.5:5432/gongzhi"
    assert env["GONGZHI_BROKER_URL"] == "redis://10.0.0.5:6379/0"
    smtp = SmtpConfig.from_url(env["GONGZHI_SMTP_URL"])
    assert (smtp.security, smtp.username, smtp.port) == ("starttls", "gongzhi@example.gov.cn", 587)
    command = services["worker"]["command"]
    assert command[command.index("--concurrency") + 1] == "8"


def test_the_commands_exist_in_the_image(config):
    """Every command compose runs is something this project provides."""
    import importlib
    import tomllib

    services = config["services"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert services["migrate"]["command"][0] in scripts
    api = services["api"]["command"]
    module, _, factory = api[api.index("--factory") + 1].partition(":")
    assert callable(getattr(importlib.import_module(module), factory))
    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[:3] == ["celery", "-A", "workers.app"]
    assert services["beat"]["command"][-1].startswith("/data/")  # beat's schedule file lives on its volume
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "pip install" in dockerfile and "USER gongzhi" in dockerfile
