"""Fixtures shared by the whole suite.

Database tests run once on SQLite and once on PostgreSQL (the `db_url`
fixture).  A server that is missing makes its tests skip, saying why — unless
GONGZHI_TEST_REQUIRE_SERVICES=1 (set by .ci/run), which turns every such skip
into a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

os.environ.setdefault("GONGZHI_DEMO", "1")
# Nothing a test does may touch the developer's ./var (database, broker, mail).
os.environ.setdefault("GONGZHI_DATA_DIR", tempfile.mkdtemp(prefix="gongzhi-test-"))

import shared.models  # noqa: E402
from shared.clock import FrozenClock  # noqa: E402
from shared.db import make_engine  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "GONGZHI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GONGZHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("GONGZHI_TEST_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    """Skip on a bare machine; fail where CI promised every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def _postgres_reachable() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"


@contextmanager
def fresh_postgres_database(prefix: str, *, create_schema: bool = True) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database (with our tables), dropped afterwards."""
    problem = _postgres_reachable()
    if problem:
        missing_service(problem)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    if create_schema:
        engine = make_engine(url)
        shared.models.metadata.create_all(engine)
        engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session, dropped at the end."""
    with fresh_postgres_database("gongzhi_test") as url:
        yield url


def _truncate_all(engine: Engine) -> None:
    """Empty every table between tests.

    DELETE rather than TRUNCATE: on tables this small it is much cheaper (no new
    files, no checkpoint waits).  Replica mode switches off the trigger that
    keeps the audit trail append-only — for test cleanup only.
    """
    tables = [t.name for t in reversed(shared.models.metadata.sorted_tables)]
    with engine.begin() as conn:  # one round trip for all (before every PostgreSQL test)
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                             + " ".join(f'DELETE FROM "{t}";' for t in tables))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with our tables, made once: each test gets a copy of the file.

    create_all costs some 60 ms, a file copy well under one, and half the suite starts on SQLite."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    shared.models.metadata.create_all(engine)
    engine.dispose()  # the last connection checkpoints and removes the WAL: the file is the whole database
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from shared.calendar.service import forget_cached_calendars

    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        _truncate_all(engine)
    forget_cached_calendars()  # the tables were emptied behind the process's back
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


# Tuesday 2026-12-01 10:00 in Shanghai: an ordinary working day.
DEFAULT_NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


# ---------------------------------------------------------------- API harness

from fastapi.testclient import TestClient  # noqa: E402

from services.api.app import create_app  # noqa: E402
from shared.settings import Settings  # noqa: E402
from tests.factories import World, build_world  # noqa: E402


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Tokens outlive the days tests move the clock by; expiry has its own test.
    return Settings(demo=True, database_url=db_url, data_dir=tmp_path / "data", token_ttl_hours=24 * 60)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """The API as it serves: on PostgreSQL listening for what invalidates its kept copies (as its start-up does)."""
    from shared import invalidation

    invalidation.start(engine)
    watch = invalidation.watch(engine)
    assert watch is None or watch.wait_listening(10), "the kept-copy listener did not start"
    yield create_app(settings, engine=engine, clock=clock)
    invalidation.stop(engine)


@pytest.fixture
def world(session: Session, clock: FrozenClock) -> World:
    """Departments of a city and one user of each role per department that needs it."""
    w = build_world(session, clock)
    session.commit()
    return w


class Api:
    """A TestClient per user: `api.as_user(user).get(...)`."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self._tokens: dict[str, str] = {}

    def anonymous(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)

    def as_user(self, user, lang: str = "zh-CN") -> TestClient:  # type: ignore[no-untyped-def]
        """A client holding a bearer token for `user` (issued directly: argon2 is tested in test_auth)."""
        from shared.users import service as users

        client = TestClient(self.app, raise_server_exceptions=False)
        token = self._tokens.get(user.username)
        if token is None:
            with Session(self.app.state.engine, expire_on_commit=False) as s:
                token = users.issue_token(s, self.app.state.clock, self.app.state.settings, user)
                s.commit()
            self._tokens[user.username] = token
        client.headers.update({"Authorization": f"Bearer {token}", "Accept-Language": lang})
        return client


@pytest.fixture
def api(app) -> Api:  # type: ignore[no-untyped-def]
    return Api(app)


@pytest.fixture
def make_case(session: Session, clock: FrozenClock, world: World):  # type: ignore[no-untyped-def]
    """Open a case through the real service, as the coordinator would."""
    from shared.cases import service as cases
    from tests.factories import case_input

    def _make(lead: str = "SCJG", shared: tuple[str, ...] = (), by=None, **overrides):  # type: ignore[no-untyped-def]
        case = cases.create_case(session, clock, by or world.coordinator,
                                 case_input(world, lead=lead, shared=shared, **overrides))
        session.commit()
        return case

    return _make


@pytest.fixture
def dispatch(session: Session, clock: FrozenClock, world: World):  # type: ignore[no-untyped-def]
    """Dispatch an assignment through the real service."""
    from shared.assignments import service as assignments
    from shared.assignments.schemas import DispatchIn

    # Tests build several assignments of one department on a case to put them in different
    # states, so the helper dispatches parallel work; the one-open-assignment rule has its
    # own tests (test_open_assignment_rule.py).
    def _dispatch(case, dept: str, days: int = 5, by=None, parallel: bool = True):  # type: ignore[no-untyped-def]
        a = assignments.dispatch(session, clock, by or world.coordinator, case.id,
                                 DispatchIn(department_id=world.dept(dept).id, working_days=days,
                                            instructions="核查经营资质并反馈", parallel=parallel))
        session.commit()
        return a

    return _dispatch


@pytest.fixture
def cli(db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`gongzhi` commands in this process, on the test database (get_settings reads the environment)."""
    from typer.testing import CliRunner

    import shared.db
    from shared.settings import get_settings

    monkeypatch.setenv("GONGZHI_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGZHI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GONGZHI_DEMO", "1")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
    cached = shared.db._engines.pop(db_url, None)
    if cached is not None:
        cached.dispose()
