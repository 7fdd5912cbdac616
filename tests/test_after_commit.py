"""One after-commit hook wakes the outbox relay: once per committed transaction that queued mail, never
for one that rolled back; and the domain (shared/) never imports the workers."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared.outbox.models import OutboxMessage
from shared.outbox.service import enqueue
from shared.users.models import NotifyMode, User
from tests.factories import World
from tests.relay_kicks import counting_kicks
from tests.test_pages import browser, submit

REPO = Path(__file__).resolve().parent.parent


def _outbox_rows(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@pytest.fixture
def kicks(app: Any, engine: Engine) -> Iterator[list[int]]:
    """Kicks counted; each notes how many outbox rows another connection sees at that moment."""
    with counting_kicks() as calls:
        from shared.outbox.service import install_relay_kick

        seen: list[int] = []

        def kick() -> bool:
            seen.append(_outbox_rows(engine))  # committed rows only: a separate connection
            calls.append(1)
            return True

        install_relay_kick(kick)
        yield seen


def _immediate(session: Session, user: User) -> None:
    row = session.get(User, user.id)
    assert row is not None
    row.notify_mode = NotifyMode.IMMEDIATE
    session.commit()


def _queue_one(session: Session, clock: Any, key: str) -> None:
    enqueue(session, key=key, kind="test", to_address="liaison@gov.example", subject="主题",
            body_text="正文", body_html="<p>正文</p>", now=clock.now())


def test_an_api_action_that_queues_mail_kicks_once_after_its_commit(api, world: World, make_case, session,  # type: ignore[no-untyped-def]
                                                                      kicks: list[int]) -> None:
    _immediate(session, world.liaison("TYJ"))  # he wants each email at once: dispatching queues one
    case = make_case()
    before = len(kicks)
    r = api.as_user(world.coordinator).post(f"/api/v1/cases/{case.id}/assignments",
                                            json={"department_id": world.dept("TYJ").id, "working_days": 5,
                                                  "instructions": "核查体育经营许可"})
    assert r.status_code == 201, r.text
    assert len(kicks) == before + 1
    assert kicks[-1] >= 1  # the relay, woken, already finds the row: the kick came after the commit


def test_an_idempotent_api_action_kicks_once_after_its_real_commit(api, world: World, make_case, session,  # type: ignore[no-untyped-def]
                                                                     kicks: list[int]) -> None:
    """With Idempotency-Key the route's commit is held back; the kick waits for the real one."""
    _immediate(session, world.liaison("TYJ"))
    case = make_case()
    before = len(kicks)
    coordinator = api.as_user(world.coordinator)
    body = {"department_id": world.dept("TYJ").id, "working_days": 5, "instructions": "核查体育经营许可"}
    headers = {"Idempotency-Key": "dispatch-tyj-1"}
    first = coordinator.post(f"/api/v1/cases/{case.id}/assignments", json=body, headers=headers)
    again = coordinator.post(f"/api/v1/cases/{case.id}/assignments", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert len(kicks) == before + 1 and kicks[-1] >= 1  # the replay queued nothing, kicked nothing


def test_a_page_action_that_queues_mail_kicks_once_after_its_commit(app, world: World, make_case, session,  # type: ignore[no-untyped-def]
                                                                      kicks: list[int]) -> None:
    _immediate(session, world.liaison("TYJ"))
    case = make_case()
    before = len(kicks)
    path = f"/cases/{case.id}"
    r = submit(browser(app, world.coordinator), path, f"{path}/dispatch", lead_department_id=str(world.dept("TYJ").id),
               working_days="5", instructions="核查体育经营许可")
    assert r.status_code == 303
    assert len(kicks) == before + 1 and kicks[-1] >= 1


def test_a_rolled_back_transaction_kicks_nothing_even_at_a_later_commit(engine: Engine, clock,  # type: ignore[no-untyped-def]
                                                                         kicks: list[int]) -> None:
    with Session(engine) as s:
        _queue_one(s, clock, "rolled-back")
        s.rollback()
        s.commit()  # a later, empty commit in the same session
    assert kicks == [] and _outbox_rows(engine) == 0


def test_a_savepoint_is_not_the_commit(engine: Engine, clock, kicks: list[int]) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        with s.begin_nested():
            _queue_one(s, clock, "in-a-savepoint")
        assert kicks == []  # released, not committed: nobody else can see the row yet
        s.commit()
    assert kicks == [1]


def test_a_transaction_that_queued_nothing_kicks_nothing(engine: Engine, clock, kicks: list[int]) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        _queue_one(s, clock, "once")
        s.commit()
        _queue_one(s, clock, "once")  # the same dedup key: nothing new
        s.commit()
    assert kicks == [1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_never_imports_workers_or_services() -> None:
    """Not at load time, and not lazily inside a function either (that is how the cycle hid)."""
    offenders = {
        str(path.relative_to(REPO)): sorted(n for n in _imports(path) if n.split(".")[0] in ("workers", "services"))
        for path in sorted((REPO / "shared").rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_every_domain_module_loads_no_worker() -> None:
    code = (
        "import importlib, pkgutil, sys, shared\n"
        "for m in pkgutil.walk_packages(shared.__path__, 'shared.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('workers', 'services', 'celery'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
