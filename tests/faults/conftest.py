"""Fault tests: real worker processes, real Redis, real SMTP, real PostgreSQL — and something breaks.

Each test gets a PostgreSQL database of its own, so terminating its
connections or leaving rows in odd states never touches another test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres_database


@pytest.fixture
def fault_db() -> Iterator[str]:
    with fresh_postgres_database("gongzhi_fault") as url:
        yield url
