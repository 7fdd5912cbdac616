"""Fault tests: real worker processes, real Redis, real SMTP, real PostgreSQL — and something breaks.

Each test gets a PostgreSQL database of its own, so terminating its
connections or leaving rows in odd states never touches another test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

import shared.models
from shared.db import make_engine
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_reachable, missing_service


@pytest.fixture
def fault_db() -> Iterator[str]:
    problem = _postgres_reachable()
    if problem:
        missing_service(problem)
    name = f"gongzhi_fault_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    shared.models.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
